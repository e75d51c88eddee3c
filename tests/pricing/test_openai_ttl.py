"""OpenAI Responses 12-hour cache writes are priced at the long-TTL write rate, end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest

from thinllm import Client, Prompt, Route, user
from thinllm.testing import FakeVendor

POLICY = "Refunds are allowed within 30 days of purchase with a receipt. " * 200


@pytest.mark.parametrize(("ttl", "long_writes"), [("12h", True), ("30m", False)])
def test_responses_cache_write_rate_follows_the_ttl(ttl: str, long_writes: bool) -> None:
    """A 12-hour cache write costs the 12-hour rate; a 30-minute one the 30-minute rate."""
    fake = FakeVendor()
    fake.reply("refund")
    client = Client([Route(fake.openai(), model="gpt-6.1-terra", api="responses")])
    prompt = Prompt(system=POLICY, messages=[user("My order 1234 arrived broken.")])
    reply = client.complete(prompt, max_tokens=8, extra={"prompt_cache_options": {"ttl": ttl}})
    usage = reply.usage
    assert usage.cache_write_tokens > 1000
    assert usage.cache_write_1h_tokens == (usage.cache_write_tokens if long_writes else 0)
    uncached = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
    write_rate = Decimal("2.50") if long_writes else Decimal("1.25")
    expected = (
        uncached * Decimal(1) + usage.cache_write_tokens * write_rate + usage.output_tokens * 5
    ) / 1_000_000
    assert reply.cost == expected
    client.close()
