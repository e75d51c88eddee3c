"""Progress while an eval runs: a one-line bar on a terminal, plain lines in CI logs.

Retries and errors are always visible (a run never looks "stuck" while retrying).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._records import Record

__all__ = ["Progress"]

#: Error lines printed in CI logs before only the counts are shown.
MAX_ERROR_LINES = 5


class Progress:
    """Reports finished (case, epoch) records to ``stream`` (default: stderr)."""

    def __init__(
        self,
        total: int,
        *,
        label: str = "eval",
        stream: TextIO | None = None,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = self.errors = self.retries = self.cached = 0
        self._clock = clock
        self._start = clock()
        self._next_line = 0

    def __call__(self, record: Record) -> None:
        """Count one finished record and redraw or print."""
        self.done += 1
        self.errors += record.errored
        self.retries += record.retries
        self.cached += record.from_cache
        if record.errored and not self.tty and self.errors <= MAX_ERROR_LINES:
            assert record.error is not None
            print(
                f"{self.label}: error on case {record.case_id} epoch {record.epoch}: "
                f"{record.error.get('type')}",
                file=self.stream,
            )
        if self.tty:
            self._draw()
        elif self.done >= self._next_line or self.done == self.total:
            self._next_line = self.done + max(1, self.total // 10)
            print(self._status(), file=self.stream, flush=True)

    def close(self) -> None:
        """End the bar's line on a terminal."""
        if self.tty and self.done:
            print(file=self.stream, flush=True)

    def _status(self) -> str:
        elapsed = self._clock() - self._start
        return (
            f"{self.label}: {self.done}/{self.total} done, {self.errors} errors, "
            f"{self.retries} retries, {self.cached} cached, {elapsed:.1f}s"
        )

    def _draw(self) -> None:
        width = 24
        filled = width * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {self._status()}")
        self.stream.flush()
