"""Hands each audit event to every sink without letting a sink break the call."""

from __future__ import annotations

from typing import Any

from .errors import AuditWriteError

__all__ = ["Delivery"]


class Delivery:
    """Delivers events to sinks: fail-open by default, fail-closed on request.

    Fail-open: a sink that raises is logged once per outage and the call goes on.
    Fail-closed: the failure raises :class:`~thinllm.errors.AuditWriteError`.
    """

    def __init__(self, sinks: list[Any], *, fail_closed: bool = False) -> None:
        for sink in sinks:
            if not callable(sink):
                raise TypeError(
                    f"a sink must be callable with one CallEvent, got {type(sink).__name__}"
                )
        self.sinks = sinks
        self.fail_closed = fail_closed
        self.failures = 0
        self._down: set[int] = set()

    @property
    def healthy(self) -> bool:
        """False when a fail-closed client knows a sink is down (calls are refused)."""
        return not (self.fail_closed and self._down)

    def deliver(self, event: Any) -> None:
        """Write ``event`` to every sink."""
        for index, sink in enumerate(self.sinks):
            try:
                sink(event)
            except Exception as exc:
                self.failures += 1
                if index not in self._down:
                    self._down.add(index)
                    import logging

                    logging.getLogger("thinllm").warning(
                        "thinllm: audit sink %s failed (%s); events continue to other sinks",
                        type(sink).__name__,
                        type(exc).__name__,
                    )
                if self.fail_closed:
                    raise AuditWriteError(
                        f"audit sink {type(sink).__name__} failed ({type(exc).__name__}) and the "
                        "client is fail-closed"
                    ) from exc
            else:
                self._down.discard(index)

    def budget_store(self) -> Any:
        """The first sink that can report spend totals (for budgets), or ``None``."""
        for sink in self.sinks:
            if callable(getattr(sink, "spent", None)):
                return sink
        return None

    def close(self) -> None:
        """Close every sink that can be closed."""
        for sink in self.sinks:
            close = getattr(sink, "close", None)
            if callable(close):
                close()
