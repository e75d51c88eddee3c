"""An in-memory sink for tests and notebooks."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._events import CallEvent

__all__ = ["MemorySink"]


class MemorySink:
    """Keeps every event in ``.events`` (a list, oldest first). Not durable.

    ``maxlen`` bounds memory for long-running processes: the oldest events are
    dropped and counted in ``.dropped``.
    """

    def __init__(self, *, maxlen: int | None = None) -> None:
        self.events: list[CallEvent] = []
        self.maxlen = maxlen
        self.dropped = 0
        self._lock = threading.Lock()

    def __call__(self, event: CallEvent, /) -> None:
        with self._lock:
            self.events.append(event)
            if self.maxlen is not None and len(self.events) > self.maxlen:
                del self.events[0]
                self.dropped += 1

    def clear(self) -> None:
        """Forget every stored event."""
        with self._lock:
            self.events.clear()

    def __repr__(self) -> str:
        return f"<MemorySink events={len(self.events)}>"
