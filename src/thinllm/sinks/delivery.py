"""Fail-open (or fail-closed) delivery of each event to every sink, with a local spool.

The client owns one :class:`Delivery` and calls :meth:`Delivery.deliver` once per call.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any, TypeVar

from thinllm.errors import AuditWriteError

from ._spool import Spool, default_spool_dir, sink_identity

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from thinllm._events import CallEvent

    from ._base import Sink

__all__ = ["Delivery"]

T = TypeVar("T")

logger = logging.getLogger("thinllm")


def describe(sink: Any) -> str:
    """A short name for logs and errors (never a DSN or credential)."""
    if hasattr(sink, "spool_key"):
        return repr(sink)  # thinllm's own sinks keep credentials out of their repr
    name = getattr(sink, "__qualname__", None)
    return name if isinstance(name, str) else type(sink).__name__


class _State:
    __slots__ = ("awrite", "error", "lock", "name", "next_retry", "pending", "sink", "spool")

    def __init__(self, sink: Sink, spool: Spool, name: str) -> None:
        self.sink = sink
        awrite = getattr(sink, "awrite", None)
        self.awrite: Callable[[CallEvent], Awaitable[None]] | None = (
            awrite if callable(awrite) else None
        )
        self.spool = spool
        self.name = name
        self.pending = spool.count()
        self.next_retry = 0.0
        self.error: Exception | None = None
        self.lock = threading.Lock()


class Delivery:
    """Hands each event to every sink; never loses one, and never breaks a call unless asked.

    A sink that raises gets the event *spooled*: appended (fsynced) to a local JSONL
    file, one per sink, under ``spool_dir`` (default ``$THINLLM_SPOOL_DIR`` or the
    user's cache dir + ``thinllm/spool``). While a sink has spooled events it is in
    *outage*: new events go to the spool too (keeping order), and every
    ``retry_interval`` seconds a delivery first re-sends the spool; when that
    succeeds the outage is over. One warning is logged (logger ``"thinllm"``) when an
    outage starts and one when it ends. Spooled events left by an earlier process are
    picked up at start.

    ``fail_closed=False`` (default): failures are absorbed; ``pending`` says how many
    events wait. ``fail_closed=True``: after spooling, :meth:`deliver` raises
    :class:`~thinllm.errors.AuditWriteError` (chained to the sink's error); call
    :meth:`check` before contacting the vendor to refuse a call up front while a sink
    is known to be down.
    """

    def __init__(
        self,
        sinks: Iterable[Sink],
        *,
        fail_closed: bool = False,
        spool_dir: str | os.PathLike[str] | None = None,
        retry_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fail_closed = fail_closed
        self.spool_dir = os.fspath(spool_dir) if spool_dir is not None else default_spool_dir()
        self.retry_interval = retry_interval
        self._clock = clock
        self.sinks: tuple[Sink, ...] = tuple(sinks)
        self._states = [
            _State(sink, Spool(self.spool_dir, sink_identity(sink, i)), describe(sink))
            for i, sink in enumerate(self.sinks)
        ]

    @property
    def pending(self) -> int:
        """Events spooled and not yet re-delivered (all sinks together)."""
        return sum(state.pending for state in self._states)

    @property
    def healthy(self) -> bool:
        """False while any sink is in outage (has spooled events)."""
        return not any(state.pending for state in self._states)

    def deliver(self, event: CallEvent) -> None:
        """Give ``event`` to every sink (spooling it for those that fail).

        Raises :class:`~thinllm.errors.AuditWriteError` only when ``fail_closed``.
        """
        failed: list[_State] = []
        for state in self._states:
            # ``state.pending`` first: a healthy sink (the usual case) skips the outage
            # check's call; _still_down reads it again, so the semantics are the same.
            if state.pending and self._still_down(state, event):
                failed.append(state)
                continue
            try:
                state.sink(event)
            except Exception as exc:  # fail-open: the caller's call goes on
                self._spool(state, event, exc)
                failed.append(state)
        if failed:  # nothing to conclude when every sink took the event
            self._conclude(event, failed)

    async def adeliver(self, event: CallEvent) -> None:
        """:meth:`deliver` for coroutines: sinks with ``awrite`` are awaited.

        A sink that has an ``awrite`` coroutine method (as :class:`SQLiteSink`) stores
        the event without blocking the event loop; other sinks are called as in
        :meth:`deliver`. Spooling and ``fail_closed`` behave the same. During an outage
        the spool's fsynced appends and its re-send run in a worker thread, so a long
        spool draining into a recovered sink does not stall the loop either.
        """
        failed: list[_State] = []
        for state in self._states:
            if state.pending and await _off_loop(self._still_down, state, event):
                failed.append(state)
                continue
            try:
                if state.awrite is not None:
                    await state.awrite(event)
                else:
                    state.sink(event)
            except Exception as exc:  # fail-open: the caller's call goes on
                await _off_loop(self._spool, state, event, exc)
                failed.append(state)
        if failed:
            self._conclude(event, failed)

    def _still_down(self, state: _State, event: CallEvent) -> bool:
        """Spool ``event`` (keeping order) if ``state``'s sink is in an outage that a
        due re-send of its spool did not end."""
        if state.pending and not self._recover(state)[0]:
            self._spool(state, event, state.error)
            return True
        return False

    def _conclude(self, event: CallEvent, failed: list[_State]) -> None:
        if failed and self.fail_closed:
            first = failed[0]
            raise AuditWriteError(
                f"audit sink {first.name} could not record call {event.call_id}; the event is "
                f"spooled to {first.spool.path} and will be re-delivered when the sink "
                "recovers. The call is refused because the client is fail_closed."
            ) from first.error

    def check(self) -> bool:
        """Re-send spooled events whose retry is due; return :attr:`healthy`.

        Cheap when healthy. A fail-closed client calls it before contacting the vendor.
        """
        for state in self._states:
            if state.pending:
                self._recover(state)
        return self.healthy

    def retry_pending(self) -> int:
        """Re-send every spooled event now (ignoring the retry interval); how many went."""
        return sum(self._recover(state, force=True)[1] for state in self._states if state.pending)

    def close(self) -> None:
        """Try once more to re-send spooled events, then close sinks that have ``close()``."""
        self.retry_pending()
        for state in self._states:
            close = getattr(state.sink, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as exc:  # closing must not mask the caller's own errors
                    logger.warning("closing audit sink %s failed: %r", state.name, exc)

    def __repr__(self) -> str:
        pending, closed = self.pending, self.fail_closed
        return f"<Delivery sinks={len(self.sinks)} pending={pending} fail_closed={closed}>"

    def _spool(self, state: _State, event: CallEvent, exc: Exception | None) -> None:
        with state.lock:
            if not state.pending:
                state.next_retry = self._clock() + self.retry_interval
                logger.warning(
                    "audit sink %s failed (%s); spooling events to %s until it recovers",
                    state.name,
                    _summary(exc),
                    state.spool.path,
                )
            state.error = exc
            state.spool.append(event)
            state.pending += 1

    def _recover(self, state: _State, *, force: bool = False) -> tuple[bool, int]:
        """Re-send ``state``'s spool if due: (no longer in outage, events sent)."""
        with state.lock:
            if not state.pending:
                return True, 0
            if not force and self._clock() < state.next_retry:
                return False, 0
            sent, left, error = state.spool.drain(state.sink)
            state.pending = left
            if left:
                state.error = error
                state.next_retry = self._clock() + self.retry_interval
                return False, sent
            logger.warning(
                "audit sink %s recovered; re-delivered %d spooled events", state.name, sent
            )
            state.error = None
            return True, sent


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread: spool I/O (fsync) must not stall the event loop.

    Only reached during an outage; asyncio is imported here, not at module level, so
    sync-only users never load it (it is already loaded wherever a coroutine runs).
    """
    import asyncio

    return await asyncio.to_thread(fn, *args)


def _summary(exc: Exception | None) -> str:
    # The type only: exception messages can quote connection strings or credentials.
    return "unavailable" if exc is None else type(exc).__name__
