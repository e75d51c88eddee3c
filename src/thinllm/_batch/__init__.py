"""Vendor batch APIs, governed per item: ``client.batch(...)`` and ``client.batch_job(id)``.

- ``_submit``: governance per item, then one vendor batch; resuming by id.
- ``_job``: :class:`BatchJob` (status, waiting, replies in prompt order, reruns).
- ``_items``: items, their ids, failed items, :class:`BatchNotEndedError`.
- ``_wire``: the Anthropic Message Batches and OpenAI Batch wire formats.
- ``_ops``: batch-level requests under the client's retry and circuit policy.
- ``_state``: the small local record that lets another process resume a batch.
- ``_progress``: the progress bar / log lines while waiting.
"""

from __future__ import annotations

from ._items import BatchNotEndedError, FailedItem
from ._job import BatchJob
from ._submit import aresume, asubmit, resume, submit
from ._wire import Counts as BatchCounts

__all__ = [
    "BatchCounts",
    "BatchJob",
    "BatchNotEndedError",
    "FailedItem",
    "aresume",
    "asubmit",
    "resume",
    "submit",
]
