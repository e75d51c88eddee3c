"""Every BatchJob operation has an async twin with the same parameters."""

from __future__ import annotations

import inspect

import pytest

from thinllm import _batch
from thinllm._batch import BatchJob

PAIRS = [
    ("refresh", "arefresh"),
    ("wait", "wait_async"),
    ("results", "aresults"),
    ("cancel", "acancel"),
    ("failed", "afailed"),
    ("rerun_failed", "arerun_failed"),
]


class TestParity:
    @pytest.mark.parametrize(("sync", "async_"), PAIRS)
    def test_job_methods_have_async_twins(self, sync: str, async_: str) -> None:
        """Async code can do everything sync code can with a BatchJob, with the same arguments."""
        twin = getattr(BatchJob, async_)
        assert inspect.iscoroutinefunction(twin)
        assert (
            inspect.signature(getattr(BatchJob, sync)).parameters.keys()
            == inspect.signature(twin).parameters.keys()
        )

    @pytest.mark.parametrize(("sync", "async_"), [("submit", "asubmit"), ("resume", "aresume")])
    def test_entry_points_have_async_twins(self, sync: str, async_: str) -> None:
        """Submitting and resuming work from async code with the same arguments."""
        assert (
            inspect.signature(getattr(_batch, sync)).parameters.keys()
            == inspect.signature(getattr(_batch, async_)).parameters.keys()
        )
