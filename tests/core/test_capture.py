"""What audit events hold of prompts and replies, under each capture mode."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinllm import Client, Prompt, Route, user
from thinllm.pii import default_detector
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

EMAIL = "jane.doe@example.com"
KEY = "sk-ant-api03-" + "A" * 40
PII_VALUES = [EMAIL, "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "192.168.12.7", KEY, "+1 415 555 0100"]


def record(fake: FakeVendor, capture: str, text: str) -> dict[str, object]:
    sink = MemorySink()
    Client([Route(fake.openai(), model="gpt-6.1-terra")], sinks=[sink], capture=capture).complete(
        Prompt("Be brief.", messages=[user(text)]), max_tokens=8
    )
    content = sink.events[0].content
    assert isinstance(content, dict)
    return content


class TestCapture:
    def test_redacted_by_default_even_without_a_pii_policy(self, fake: FakeVendor) -> None:
        """With no PII policy the vendor gets the text as written, but the sink never holds the values."""
        fake.reply(f"I will write to {EMAIL}")
        content = record(fake, "redacted", f"Mail {EMAIL}, key {KEY}")
        assert EMAIL in fake.requests[0].raw_body.decode()
        dumped = json.dumps(content)
        assert EMAIL not in dumped and KEY not in dumped
        assert "[EMAIL_1]" in dumped

    def test_clean_text_is_stored_as_is(self, fake: FakeVendor) -> None:
        """Text with nothing to hide is recorded verbatim (the fast path changes nothing)."""
        fake.reply("shipping")
        content = record(fake, "redacted", "Where is my parcel?")
        assert content == {"system": "Be brief.", "messages": [{"role": "user", "text": "Where is my parcel?"}], "response": "shipping"}

    def test_full_still_removes_credentials(self, fake: FakeVendor) -> None:
        """capture='full' keeps personal data as sent but never an API key."""
        content = json.dumps(record(fake, "full", f"Mail {EMAIL}, key {KEY}"))
        assert EMAIL in content and KEY not in content

    @pytest.mark.parametrize("capture", ["hash", "none"])
    def test_hash_and_none_hold_no_text(self, fake: FakeVendor, capture: str) -> None:
        """hash keeps digests only; none keeps nothing."""
        sink = MemorySink()
        Client([Route(fake.openai(), model="gpt-6.1-terra")], sinks=[sink], capture=capture).complete(
            Prompt(messages=[user(f"Mail {EMAIL}")]), max_tokens=8
        )
        assert EMAIL not in sink.events[0].to_json()
        assert (sink.events[0].content is None) == (capture == "none")


class TestJointScan:
    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.one_of(st.text(max_size=30), st.sampled_from(PII_VALUES), st.builds(lambda a, b: a + b, st.text(max_size=10), st.sampled_from(PII_VALUES))),
            min_size=1,
            max_size=5,
        )
    )
    def test_joining_never_hides_a_detection(self, texts: list[str]) -> None:
        """If any single recorded text holds PII, the one joined scan finds PII too."""
        detect = default_detector()
        if any(detect(t) for t in texts):
            assert detect("\n".join(texts))


class TestErrorMessages:
    def test_vendor_error_text_is_scrubbed_without_a_pii_policy(self, fake: FakeVendor) -> None:
        """A vendor error echoing the prompt's e-mail never reaches the event or the attempt."""
        from thinllm import RoutesExhaustedError
        from thinllm.testing import Fault

        fake.fail(Fault.bad_request(f"bad value {EMAIL}"), times=1)
        sink = MemorySink()
        client = Client([Route(fake.openai(), model="gpt-6.1-terra")], sinks=[sink])
        with pytest.raises(RoutesExhaustedError) as info:
            client.complete(Prompt(messages=[user(f"Mail {EMAIL}")]), max_tokens=8)
        assert EMAIL not in sink.events[0].to_json()
        assert all(EMAIL not in (a.message or "") for a in info.value.attempts)
        assert EMAIL not in str(info.value)
