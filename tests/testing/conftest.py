"""Fixtures for the fake vendor's own tests: SDK clients wired to it, closed afterwards.

Async tests run their coroutine with ``asyncio.run`` and close their clients inside it.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest

from thinllm.testing import FakeVendor


@pytest.fixture
def vendor() -> FakeVendor:
    """A fake vendor with nothing scripted."""
    return FakeVendor()


@pytest.fixture
def claude(vendor: FakeVendor) -> Iterator[anthropic.Anthropic]:
    """A synchronous Anthropic client on the in-process transport, without SDK retries."""
    client = vendor.anthropic(max_retries=0)
    yield client
    client.close()


@pytest.fixture
def gpt(vendor: FakeVendor) -> Iterator[openai.OpenAI]:
    """A synchronous OpenAI client on the in-process transport, without SDK retries."""
    client = vendor.openai(max_retries=0)
    yield client
    client.close()
