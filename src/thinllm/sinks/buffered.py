"""Moves sink writes off the call path: a bounded queue and one background writer."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any, Literal

from thinllm.errors import ConfigurationError

from .delivery import Delivery, describe

if TYPE_CHECKING:
    from thinllm._events import CallEvent

    from ._base import Sink

__all__ = ["BufferedSink"]

logger = logging.getLogger("thinllm")

_STOP = object()


class BufferedSink:
    """Wraps a sink so that a call only enqueues its event (about a microsecond).

    A background thread writes queued events in batches (one transaction per batch
    when the sink has ``write_many``, as :class:`SQLiteSink`, :class:`JSONLSink` and
    :class:`PostgresSink` do). The queue holds at most ``maxsize`` events; when full:

    * ``on_full="block"`` (default): the caller waits for room. Nothing is lost.
    * ``on_full="drop"``: the event is discarded, counted in :attr:`dropped`, and a
      warning is logged (logger ``"thinllm"``) the first time. Never silent.

    Events are durable only once written: :meth:`flush` waits for that; it runs on
    :meth:`close`, on ``with`` exit and at interpreter exit. A ``kill -9`` loses what
    is still queued, so use the unbuffered sink where every returned call must be on
    disk. A write that fails is spooled and re-delivered (see :class:`Delivery`), with
    ``spool_dir`` choosing where.
    """

    def __init__(
        self,
        sink: Sink,
        *,
        maxsize: int = 10_000,
        on_full: Literal["block", "drop"] = "block",
        batch: int = 1000,
        spool_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if on_full not in ("block", "drop"):
            raise ConfigurationError(f"on_full must be 'block' or 'drop', not {on_full!r}")
        if maxsize < 1:
            raise ConfigurationError("maxsize must be at least 1")
        self.sink = sink
        self.maxsize = maxsize
        self.on_full = on_full
        self.batch = batch
        #: Events discarded because the queue was full (``on_full="drop"`` only).
        self.dropped = 0
        self._delivery = Delivery([sink], spool_dir=spool_dir)
        self._closed = False
        self._start()
        ref = weakref.ref(self)

        def flush_at_exit() -> None:
            buffered = ref()
            if buffered is not None:
                buffered.flush(timeout=30.0)

        self._atexit = flush_at_exit
        atexit.register(flush_at_exit)

    @property
    def pending(self) -> int:
        """Events the inner sink refused, waiting in the spool for re-delivery."""
        return self._delivery.pending

    @property
    def spool_key(self) -> str:
        """The wrapped sink's identity (the spool belongs to it, not to the buffer)."""
        from ._spool import sink_identity

        return "buffered:" + sink_identity(self.sink, 0)

    def __call__(self, event: CallEvent, /) -> None:
        """Queue ``event`` for the writer; block or drop when the queue is full."""
        if self._pid != os.getpid():
            self._start()  # forked: the writer thread did not come along
        queue = self._queue
        if len(queue) >= self.maxsize and not self._make_room():
            return
        queue.append(event)
        if not self._wake.is_set():
            self._wake.set()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is written; False on timeout."""
        if self._pid != os.getpid() or not self._thread.is_alive():
            return not self._queue
        marker = threading.Event()
        self._queue.append(marker)
        self._wake.set()
        return marker.wait(timeout)

    def close(self) -> None:
        """Flush, stop the writer and close the wrapped sink."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._atexit)
        if self._pid == os.getpid() and self._thread.is_alive():
            self._queue.append(_STOP)
            self._wake.set()
            self._thread.join()
        self._delivery.close()

    def __enter__(self) -> BufferedSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<BufferedSink {describe(self.sink)} queued={len(self._queue)} dropped={self.dropped}>"
        )

    def _start(self) -> None:
        self._pid = os.getpid()
        self._queue: deque[Any] = deque()
        self._wake = threading.Event()
        self._room = threading.Condition(threading.Lock())
        self._warned = False
        self._thread = threading.Thread(target=self._run, name="thinllm-buffered-sink", daemon=True)
        self._thread.start()

    def _make_room(self) -> bool:
        """Wait for room (block) or count a drop; True if the event may be queued."""
        if self.on_full == "drop":
            with self._room:
                self.dropped += 1
                first = not self._warned
                self._warned = True
            if first:
                logger.warning(
                    "thinllm BufferedSink queue is full (%d events); dropping audit events "
                    "(counted in .dropped). Raise maxsize or use on_full='block'.",
                    self.maxsize,
                )
            return False
        with self._room:
            while len(self._queue) >= self.maxsize:
                self._wake.set()
                self._room.wait(0.5)  # woken by the writer; the timeout guards a missed wake
        return True

    def _run(self) -> None:
        queue, wake = self._queue, self._wake
        while True:
            wake.wait()
            wake.clear()
            while queue:
                events: list[CallEvent] = []
                markers: list[threading.Event] = []
                stop = False
                while queue and len(events) < self.batch:
                    item = queue.popleft()
                    if item is _STOP:
                        stop = True
                        break
                    if isinstance(item, threading.Event):
                        markers.append(item)
                        break  # write what came before the marker, then release it
                    events.append(item)
                self._write(events)
                with self._room:
                    self._room.notify_all()
                for marker in markers:
                    marker.set()
                if stop:
                    return

    def _write(self, events: list[CallEvent]) -> None:
        if not events:
            return
        write_many = getattr(self.sink, "write_many", None)
        if callable(write_many) and self._delivery.healthy:
            try:
                write_many(events)
                return
            except Exception:  # fall through: deliver one by one, spooling failures
                logger.debug("batched write failed; delivering one by one", exc_info=True)
        for event in events:
            try:
                self._delivery.deliver(event)
            except Exception:  # pragma: no cover - fail-open Delivery does not raise
                logger.exception("thinllm BufferedSink could not deliver an event")
