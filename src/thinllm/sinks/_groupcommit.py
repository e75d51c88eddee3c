"""Group commit: many threads' events written in one transaction, each caller still
returning only once its own event is committed.

There is no background thread. A caller that finds nobody writing becomes the *leader*:
it writes its own event plus every event queued meanwhile in one transaction, wakes
exactly the callers whose events it wrote, and hands leadership to the next waiting
caller, if any. A lone caller therefore writes its event itself (no hand-off), and
under concurrency the cost of each commit (one fsync) is shared by the whole batch.
Callers prepare their rows *before* queueing, so that work overlaps the leader's fsync.

Asyncio callers (:meth:`GroupCommit.asubmit_many`) must not block their event loop on a
commit, so they queue their items for one *flusher* thread (started on first use) and
await a future. The flusher takes everything queued since its last commit and submits it
as one caller of the protocol above, then settles the futures of that batch with one
``call_soon_threadsafe`` per event loop. Many concurrent tasks therefore share each
fsync, and the loop thread only prepares rows and awaits.
"""

from __future__ import annotations

import asyncio
import contextlib
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
        # Asyncio side: (items, future, loop) queued for the flusher thread.
        self._queued: list[tuple[Sequence[Any], asyncio.Future[None], asyncio.AbstractEventLoop]]
        self._queued = []
        self._queue_ready = threading.Condition(threading.Lock())
        self._flusher: threading.Thread | None = None
        self._closing = False

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

    async def asubmit_many(self, items: Sequence[Any]) -> None:
        """Like :meth:`submit_many`, for a coroutine: the event loop is never blocked.

        If the awaiting task is cancelled, the items are still written.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        with self._queue_ready:
            self._queued.append((items, done, loop))
            if self._flusher is None:
                self._flusher = threading.Thread(
                    target=self._flush_forever, name="thinllm-audit-flusher", daemon=True
                )
                self._flusher.start()
            self._queue_ready.notify()
        await done

    def close(self) -> None:
        """Commit what asyncio callers queued, then let the flusher thread end."""
        with self._queue_ready:
            self._closing = True
            self._queue_ready.notify()
            flusher = self._flusher
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join()

    def _flush_forever(self) -> None:
        """The flusher thread: commit whatever asyncio callers queued, batch after batch."""
        while True:
            with self._queue_ready:
                while not self._queued:
                    if self._closing:
                        self._flusher = None
                        return
                    self._queue_ready.wait()
                batch, self._queued = self._queued, []
            error: BaseException | None = None
            try:
                self.submit_many([item for items, _, _ in batch for item in items])
            except BaseException as exc:  # handed to every awaiting caller
                error = exc
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for _, future, loop in batch:
                by_loop.setdefault(loop, []).append(future)
            for loop, futures in by_loop.items():
                # A closed loop raises RuntimeError: nobody is waiting there any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle, futures, error)

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


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """Wake the coroutines of one committed batch (runs in their event loop)."""
    for future in futures:
        if future.done():  # the awaiting task was cancelled
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
