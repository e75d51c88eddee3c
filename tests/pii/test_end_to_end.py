"""Through the real SDKs and the fake vendor: no PII value reaches the vendor or a sink."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from thinllm import Client, Prompt, Route, user
from thinllm.pii import PIIPolicy, Pseudonymize, Redact
from thinllm.sinks import MemorySink
from thinllm.testing import FakeReply, FakeVendor

VALUES = (
    "jane.doe@corp.example",
    "+44 20 7946 0958",
    "4111 1111 1111 1111",
    "DE89 3704 0044 0532 0130 00",
    "123-45-6789",
    "10.20.30.40",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
)
ASK = "Customer " + ", ".join(VALUES) + " needs help."
SYSTEM = "Escalate to jane.doe@corp.example when unsure."
# What the model "writes back": pseudonyms it was given, in text and tool arguments.
ECHO = "Contact <EMAIL_1> about <CREDIT_CARD_1>."


def leaks(fake: FakeVendor, sink: MemorySink) -> list[str]:
    """PII values found in any request body the vendor received or any stored event."""
    seen = [r.raw_body.decode() for r in fake.requests]
    seen += [e.to_json() for e in sink.events]
    return [v for v in VALUES if any(v in s for s in seen)]


def client_for(
    fake: FakeVendor, sink: MemorySink, policy: PIIPolicy, *, asynchronous: bool
) -> Client:
    vendor = fake.async_anthropic() if asynchronous else fake.anthropic()
    return Client([Route(vendor, model="claude-sonnet-5-5")], sinks=[sink], pii=policy)


POLICIES: list[Callable[[], PIIPolicy]] = [Redact, Pseudonymize]


@pytest.mark.parametrize("policy", POLICIES, ids=["redact", "pseudonymize"])
class TestNoValueLeaves:
    def test_sync_complete(self, policy: Callable[[], PIIPolicy]) -> None:
        """A plain call sends and records placeholders only."""
        fake, sink = FakeVendor(), MemorySink()
        fake.reply(FakeReply(ECHO, tool_calls=[{"name": "mail", "arguments": {"to": "<EMAIL_1>"}}]))
        client = client_for(fake, sink, policy(), asynchronous=False)
        reply = client.complete(Prompt(SYSTEM, messages=[user(ASK)]), max_tokens=64)
        client.close()
        assert leaks(fake, sink) == []
        if sink.events[-1].pii_action == "pseudonymize":
            assert reply.text == "Contact jane.doe@corp.example about 4111 1111 1111 1111."
            assert reply.tool_calls[0].arguments == {"to": "jane.doe@corp.example"}
        assert sink.events[-1].pii["EMAIL"] == 1

    def test_async_complete(self, policy: Callable[[], PIIPolicy]) -> None:
        """The async path applies the same policy."""
        fake, sink = FakeVendor(), MemorySink()
        fake.reply(ECHO)

        async def main() -> None:
            client = client_for(fake, sink, policy(), asynchronous=True)
            await client.acomplete(Prompt(SYSTEM, messages=[user(ASK)]), max_tokens=64)
            await client.aclose()

        asyncio.run(main())
        assert leaks(fake, sink) == []

    def test_stream(self, policy: Callable[[], PIIPolicy]) -> None:
        """Streamed calls are covered too, and pseudonyms are restored in the deltas."""
        fake, sink = FakeVendor(), MemorySink()
        fake.reply(ECHO)
        client = client_for(fake, sink, policy(), asynchronous=False)
        with client.stream(Prompt(SYSTEM, messages=[user(ASK)]), max_tokens=64) as stream:
            text = "".join(stream)
        client.close()
        assert leaks(fake, sink) == []
        if sink.events[-1].pii_action == "pseudonymize":
            assert text == "Contact jane.doe@corp.example about 4111 1111 1111 1111."

    def test_wrapped_vendor_client(self, policy: Callable[[], PIIPolicy]) -> None:
        """Code that keeps calling messages.create through client.wrap() is governed."""
        fake, sink = FakeVendor(), MemorySink()
        fake.reply(ECHO)
        vendor = fake.anthropic()
        client = Client([Route(vendor, model="claude-sonnet-5-5")], sinks=[sink], pii=policy())
        wrapped = client.wrap(vendor)
        wrapped.messages.create(
            model="claude-sonnet-5-5",
            max_tokens=64,
            system=SYSTEM,
            messages=[{"role": "user", "content": ASK}],
        )
        client.close()
        vendor.close()
        assert leaks(fake, sink) == []
