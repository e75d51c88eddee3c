"""What audit events hold of prompts and replies, under each capture mode."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinllm import Client, ConfigurationError, Prompt, Route, Tags, user
from thinllm._store import open_store
from thinllm.pii import default_detector
from thinllm.sinks import MemorySink, SQLiteSink
from thinllm.testing import FakeVendor

if TYPE_CHECKING:
    from pathlib import Path

EMAIL = "jane.doe@example.com"
KEY = "sk-ant-api03-" + "A" * 40
PII_VALUES = [
    EMAIL,
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "192.168.12.7",
    KEY,
    "+1 415 555 0100",
]


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
        assert content == {
            "system": "Be brief.",
            "messages": [{"role": "user", "text": "Where is my parcel?"}],
            "response": "shipping",
        }

    def test_full_still_removes_credentials(self, fake: FakeVendor) -> None:
        """capture='full' keeps personal data as sent but never an API key."""
        content = json.dumps(record(fake, "full", f"Mail {EMAIL}, key {KEY}"))
        assert EMAIL in content and KEY not in content

    @pytest.mark.parametrize("capture", ["hash", "none"])
    def test_hash_and_none_hold_no_text(self, fake: FakeVendor, capture: str) -> None:
        """hash keeps digests only; none keeps nothing."""
        sink = MemorySink()
        Client(
            [Route(fake.openai(), model="gpt-6.1-terra")], sinks=[sink], capture=capture
        ).complete(Prompt(messages=[user(f"Mail {EMAIL}")]), max_tokens=8)
        assert EMAIL not in sink.events[0].to_json()
        assert (sink.events[0].content is None) == (capture == "none")


class TestJointScan:
    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.text(max_size=30),
                st.sampled_from(PII_VALUES),
                st.builds(lambda a, b: a + b, st.text(max_size=10), st.sampled_from(PII_VALUES)),
            ),
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


class TestInvalidUnicode:
    def test_lone_surrogate_is_refused_and_still_recorded(self, tmp_path: Path) -> None:
        """Text UTF-8 cannot encode is refused (nothing sent) and the call is still audited,
        the surrogates stored as U+FFFD (prompt texts are refused earlier, when built)."""

        fake = FakeVendor()
        fake.reply("ok")
        path = str(tmp_path / "a.db")
        client = Client(
            [Route(fake.anthropic(), model="claude-sonnet-5-5")],
            sinks=[SQLiteSink(path)],
            spool_dir=str(tmp_path / "spool"),
        )
        prompt = Prompt(system="Be brief.", messages=[user("hello")])
        with pytest.raises(ConfigurationError, match="surrogate"):
            client.complete(
                prompt,
                tags=Tags(user="ann\udcff"),
                max_tokens=8,
                extra={"note": "broken \ud800 text"},
            )
        client.close()
        assert fake.requests == []  # nothing left the process
        with open_store(path) as store:
            (event,) = store.events()
            assert store.verify().ok
        assert event.outcome == "error"
        assert event.tags["user"] == "ann\ufffd"
        assert event.options["extra"] == {"note": "broken \ufffd text"}


class TestOptionsRecord:
    @pytest.mark.parametrize("policy", ["none", "redact", "pseudonymize"])
    def test_text_in_options_is_recorded_without_pii(self, fake: FakeVendor, policy: str) -> None:
        """String options (stop sequences, extra= fields) reach the event scrubbed like the
        content; numbers and keys are kept so the record still says what was asked."""
        from thinllm.pii import Pseudonymize, Redact

        pii = {"none": None, "redact": Redact(), "pseudonymize": Pseudonymize()}[policy]
        sink = MemorySink()
        client = Client([Route(fake.openai(), model="gpt-6.1-terra")], sinks=[sink], pii=pii)
        client.complete(
            Prompt("Be brief.", messages=[user("hi")]),
            max_tokens=8,
            stop=[EMAIL, "\n\n"],
            extra={"metadata": {"ticket": f"from {KEY}"}, "top_logprobs": 2},
        )
        options = sink.events[0].options
        stored = json.dumps(options)
        assert EMAIL not in stored and KEY not in stored
        assert options["max_tokens"] == 8 and options["extra"]["top_logprobs"] == 2
        assert options["stop"][1] == "\n\n"
        assert set(options["extra"]["metadata"]) == {"ticket"}
