"""Group commit: many threads' events written in one transaction, each caller still
returning only once its own event is committed.

There is no background thread. A caller that finds nobody writing becomes the *leader*:
it writes its own event plus every event queued meanwhile in one transaction, wakes
exactly the callers whose events it wrote, and hands leadership to the next waiting
caller, if any. A lone caller therefore writes its event itself (no hand-off), and
under concurrency the cost of each commit (one fsync) is shared by the whole batch.
Callers prepare their rows *before* queueing, so that work overlaps the leader's fsync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["GroupCommit"]

#: Writes the items of several callers in one transaction; raises if it failed.
WriteBatch = Callable[[list[Any]], None]

_WAITING, _DONE, _LEAD = 0, 1, 2


class _Slot:
    __slots__ = ("error", "items", "state", "wake")

    def __init__(self, items: Sequence[Any]) -> None:
        self.items = items
        self.state = _WAITING
        self.error: BaseException | None = None
        self.wake = threading.Lock()
        self.wake.acquire()  # released by the leader that finishes or promotes us


class GroupCommit:
    """Serialises writes through ``write_batch`` and batches concurrent callers."""

    def __init__(self, write_batch: WriteBatch, *, max_batch: int = 2000) -> None:
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._mutex = threading.Lock()
        self._pending: list[_Slot] = []
        self._leading = False

    def submit(self, item: Any) -> None:
        """Write one item; return once committed, or raise what prevented it."""
        self.submit_many((item,))

    def submit_many(self, items: Sequence[Any]) -> None:
        """Write ``items`` in one transaction (with whatever else is queued)."""
        slot = _Slot(items)
        with self._mutex:
            if self._leading:
                self._pending.append(slot)
            else:
                self._leading = True
                slot.state = _LEAD
        if slot.state != _LEAD:
            slot.wake.acquire()
        if slot.state == _LEAD:
            self._lead(slot)
        if slot.error is not None:
            raise slot.error

    def _lead(self, own: _Slot) -> None:
        with self._mutex:
            batch, size = [own], len(own.items)
            while self._pending and size < self._max_batch:
                nxt = self._pending.pop(0)
                batch.append(nxt)
                size += len(nxt.items)
        items = [item for slot in batch for item in slot.items]
        error: BaseException | None = None
        try:
            self._write_batch(items)
        except BaseException as exc:  # handed to every caller in the batch
            error = exc
        for slot in batch:
            slot.error = error
            if slot is not own:
                slot.state = _DONE
                slot.wake.release()
        with self._mutex:
            if self._pending:
                successor = self._pending.pop(0)
                successor.state = _LEAD
                successor.wake.release()
            else:
                self._leading = False
