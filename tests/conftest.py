"""Shared fixtures: a fresh fake vendor per test and no global state leaking between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from thinllm import _tags, pricing
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor


@pytest.fixture(autouse=True)
def _reset_global_state() -> Iterator[None]:
    """Every test starts with the shipped price table, no ambient tags and warnings re-armed."""
    pricing.reset()
    token = _tags._ambient.set(_tags.EMPTY)
    yield
    _tags._ambient.reset(token)
    pricing.reset()


@pytest.fixture
def fake() -> FakeVendor:
    """A fake vendor answering "ok" to everything (tests script their own replies)."""
    vendor = FakeVendor()
    vendor.reply("ok")
    return vendor


@pytest.fixture
def sink() -> MemorySink:
    """An in-memory audit sink."""
    return MemorySink()


def no_sleep(_: float) -> None:
    """An injected sleep that returns at once (tests never really sleep)."""


async def no_asleep(_: float) -> None:
    """Async :func:`no_sleep`."""
