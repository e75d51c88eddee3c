"""Every sync entry point has an async twin with the same parameters."""

from __future__ import annotations

import inspect

import pytest

from thinllm import Client

PAIRS = [
    ("complete", "acomplete"),
    ("stream", "astream"),
    ("close", "aclose"),
    ("batch", "abatch"),
    ("batch_job", "abatch_job"),
]


@pytest.mark.parametrize(("sync", "async_"), PAIRS)
def test_async_twin_has_same_signature(sync: str, async_: str) -> None:
    """complete/acomplete (and friends) take exactly the same arguments."""
    assert (
        inspect.signature(getattr(Client, sync)).parameters.keys()
        == inspect.signature(getattr(Client, async_)).parameters.keys()
    )
