"""Prompt-cache simulation: stable prefixes are read back, changed or expired ones are not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from thinllm.testing import FakeVendor

CLAUDE = "claude-sonnet-5-5"
GPT = "gpt-6.1-terra"
POLICY = "p" * 8000  # 2000 tokens
MARK = {"type": "ephemeral"}


class Clock:
    """A hand-driven clock for TTL tests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """The injected clock."""
    return Clock()


@pytest.fixture
def cached(clock: Clock) -> FakeVendor:
    """A fake vendor on the injected clock."""
    return FakeVendor(clock=clock)


@pytest.fixture
def cclaude(cached: FakeVendor) -> Iterator[anthropic.Anthropic]:
    """An Anthropic client on the clocked fake."""
    client = cached.anthropic(max_retries=0)
    yield client
    client.close()


@pytest.fixture
def cgpt(cached: FakeVendor) -> Iterator[openai.OpenAI]:
    """An OpenAI client on the clocked fake."""
    client = cached.openai(max_retries=0)
    yield client
    client.close()


def _ask(client: anthropic.Anthropic, question: str, system: Any = None, **kw: Any) -> Any:
    system = (
        system if system is not None else [{"type": "text", "text": POLICY, "cache_control": MARK}]
    )
    return client.messages.create(
        model=kw.pop("model", CLAUDE),
        max_tokens=16,
        system=system,
        messages=[{"role": "user", "content": question}],
        **kw,
    ).usage


class TestAnthropicCache:
    def test_first_call_writes_second_reads(self, cclaude: anthropic.Anthropic) -> None:
        """A stable marked prefix is written once, then read on the next call."""
        first = _ask(cclaude, "q1")
        second = _ask(cclaude, "q2")
        assert (
            first.cache_creation_input_tokens,
            first.cache_read_input_tokens,
            first.input_tokens,
        ) == (2000, 0, 1)
        assert first.cache_creation is not None
        assert first.cache_creation.ephemeral_5m_input_tokens == 2000
        assert (
            second.cache_creation_input_tokens,
            second.cache_read_input_tokens,
            second.input_tokens,
        ) == (0, 2000, 1)

    def test_changed_prefix_gets_no_read(self, cclaude: anthropic.Anthropic) -> None:
        """A prefix that changes by one byte is a miss and a fresh write."""
        _ask(cclaude, "q1")
        changed = [{"type": "text", "text": POLICY + "!", "cache_control": MARK}]
        usage = _ask(cclaude, "q2", system=changed)
        assert usage.cache_read_input_tokens == 0
        assert usage.cache_creation_input_tokens == 2001

    def test_other_model_gets_no_read(self, cclaude: anthropic.Anthropic) -> None:
        """Caches are per model."""
        _ask(cclaude, "q1")
        assert _ask(cclaude, "q2", model="claude-haiku-4-5").cache_read_input_tokens == 0

    def test_ttl_expiry(self, cclaude: anthropic.Anthropic, clock: Clock) -> None:
        """After the 5-minute TTL the prefix is written again; a read refreshes the TTL."""
        _ask(cclaude, "q1")
        clock.now += 299
        assert _ask(cclaude, "q2").cache_read_input_tokens == 2000
        clock.now += 299  # within 5 minutes of the refreshing read
        assert _ask(cclaude, "q3").cache_read_input_tokens == 2000
        clock.now += 301
        expired = _ask(cclaude, "q4")
        assert (expired.cache_read_input_tokens, expired.cache_creation_input_tokens) == (0, 2000)

    def test_one_hour_ttl(self, cclaude: anthropic.Anthropic, clock: Clock) -> None:
        """ttl=1h is reported as a 1h write and survives past five minutes."""
        system = [
            {"type": "text", "text": POLICY, "cache_control": {"type": "ephemeral", "ttl": "1h"}}
        ]
        first = _ask(cclaude, "q1", system=system)
        assert first.cache_creation is not None
        assert (
            first.cache_creation.ephemeral_5m_input_tokens,
            first.cache_creation.ephemeral_1h_input_tokens,
        ) == (0, 2000)
        clock.now += 1800
        assert _ask(cclaude, "q2", system=system).cache_read_input_tokens == 2000

    def test_short_prefix_is_not_cached(self, cclaude: anthropic.Anthropic) -> None:
        """A marked prefix under cache_min_tokens silently does not cache."""
        system = [{"type": "text", "text": "short", "cache_control": MARK}]
        _ask(cclaude, "q1", system=system)
        usage = _ask(cclaude, "q2", system=system)
        assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (0, 0)

    def test_unmarked_prompt_is_not_cached(self, cclaude: anthropic.Anthropic) -> None:
        """Without cache_control nothing is written or read."""
        _ask(cclaude, "q1", system=POLICY)
        usage = _ask(cclaude, "q2", system=POLICY)
        assert (
            usage.cache_read_input_tokens,
            usage.cache_creation_input_tokens,
            usage.input_tokens,
        ) == (0, 0, 2001)

    def test_top_level_cache_control(self, cclaude: anthropic.Anthropic) -> None:
        """Top-level cache_control marks the last block, so a repeat call reads it all."""
        _ask(cclaude, "q1", system=POLICY, cache_control=MARK)
        usage = _ask(cclaude, "q1", system=POLICY, cache_control=MARK)
        assert usage.cache_read_input_tokens == 2001

    def test_conversation_reads_earlier_breakpoint(self, cclaude: anthropic.Anthropic) -> None:
        """A growing conversation reads the previous turn's breakpoint and writes the new part."""
        turn1 = [
            {"role": "user", "content": [{"type": "text", "text": POLICY, "cache_control": MARK}]}
        ]
        cclaude.messages.create(model=CLAUDE, max_tokens=8, messages=turn1)  # type: ignore[arg-type]
        turn2 = [
            {"role": "user", "content": [{"type": "text", "text": POLICY}]},
            {"role": "assistant", "content": "ok"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "q" * 400, "cache_control": MARK}],
            },
        ]
        usage = cclaude.messages.create(model=CLAUDE, max_tokens=8, messages=turn2).usage  # type: ignore[arg-type]
        assert (
            usage.cache_read_input_tokens,
            usage.cache_creation_input_tokens,
            usage.input_tokens,
        ) == (2000, 101, 0)

    def test_min_tokens_is_configurable(self, clock: Clock) -> None:
        """cache_min_tokens lowers the threshold for small test prompts."""
        fake = FakeVendor(clock=clock, cache_min_tokens=1)
        client = fake.anthropic(max_retries=0)
        try:
            system = [{"type": "text", "text": "short", "cache_control": MARK}]
            _ask(client, "q1", system=system)
            assert _ask(client, "q2", system=system).cache_read_input_tokens == 2
        finally:
            client.close()


def _chat(client: openai.OpenAI, question: str, system: str = POLICY, **kw: Any) -> Any:
    usage = client.chat.completions.create(
        model=GPT,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
        **kw,
    ).usage
    assert usage is not None
    return usage


class TestOpenAICache:
    def test_automatic_cache(self, cgpt: openai.OpenAI) -> None:
        """A repeated long prefix reports cached_tokens in 128-token steps, included in prompt_tokens."""
        first = _chat(cgpt, "q1")
        second = _chat(cgpt, "q2")
        assert (
            first.prompt_tokens,
            first.prompt_tokens_details.cached_tokens,
            first.prompt_tokens_details.cache_write_tokens,
        ) == (2001, 0, 1920)
        assert (
            second.prompt_tokens,
            second.prompt_tokens_details.cached_tokens,
            second.prompt_tokens_details.cache_write_tokens,
        ) == (2001, 1920, 0)

    def test_short_prompt_not_cached(self, cgpt: openai.OpenAI) -> None:
        """Prompts under 1024 tokens never cache."""
        _chat(cgpt, "q1", system="short")
        assert _chat(cgpt, "q2", system="short").prompt_tokens_details.cached_tokens == 0

    def test_changed_prefix(self, cgpt: openai.OpenAI) -> None:
        """A different system prompt gets no cached tokens."""
        _chat(cgpt, "q1")
        assert _chat(cgpt, "q2", system=POLICY + "!").prompt_tokens_details.cached_tokens == 0

    def test_prompt_cache_key_partitions(self, cgpt: openai.OpenAI) -> None:
        """prompt_cache_key keys the cache: another key does not see the entry."""
        _chat(cgpt, "q1", prompt_cache_key="tenant-a")
        other = _chat(cgpt, "q2", prompt_cache_key="tenant-b")
        same = _chat(cgpt, "q3", prompt_cache_key="tenant-a")
        assert (
            other.prompt_tokens_details.cached_tokens,
            same.prompt_tokens_details.cached_tokens,
        ) == (0, 1920)

    def test_ttl_expiry(self, cgpt: openai.OpenAI, clock: Clock) -> None:
        """Entries expire after the in-memory retention (10 minutes by default)."""
        _chat(cgpt, "q1")
        clock.now += 601
        assert _chat(cgpt, "q2").prompt_tokens_details.cached_tokens == 0

    def test_responses_cached_tokens(self, cgpt: openai.OpenAI) -> None:
        """The Responses API reports cached tokens in input_tokens_details."""
        cgpt.responses.create(model=GPT, instructions=POLICY, input="q1")
        usage = cgpt.responses.create(model=GPT, instructions=POLICY, input="q2").usage
        assert usage is not None
        assert (usage.input_tokens, usage.input_tokens_details.cached_tokens) == (2001, 1920)
