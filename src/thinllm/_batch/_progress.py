"""Progress while waiting for a batch: a one-line bar on a terminal, plain lines in logs."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ._wire import Counts

__all__ = ["Progress"]

_WIDTH = 24


class Progress:
    """Shows a batch's counts on ``stream`` (default: stderr).

    ``enabled=None`` (the default of ``wait()``): a bar on an interactive terminal,
    nothing otherwise. ``True``: the bar on a terminal, one line per change otherwise
    (for CI logs). ``False``: nothing.
    """

    def __init__(self, label: str, *, enabled: bool | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty()) if isatty is not None else False
        self.show = self.tty if enabled is None else enabled
        self.label = label
        self._last: tuple[int, ...] | None = None
        self._drawn = False

    def update(self, status: str, counts: Counts) -> None:
        """Redraw (terminal) or print a line when something changed (log)."""
        if not self.show:
            return
        key = (counts.done, counts.errored, counts.expired, counts.canceled, len(status))
        if self.tty:
            total = counts.total or 1
            filled = round(_WIDTH * counts.done / total)
            bar = "#" * filled + "-" * (_WIDTH - filled)
            self.stream.write(f"\r{self.label} [{bar}] {_summary(status, counts)}")
            self.stream.flush()
            self._drawn = True
        elif key != self._last:
            print(f"{self.label}: {_summary(status, counts)}", file=self.stream)
        self._last = key

    def close(self) -> None:
        """End the bar's line."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _summary(status: str, counts: Counts) -> str:
    text = f"{counts.done}/{counts.total} done"
    problems = [
        f"{n} {name}"
        for name, n in (
            ("errored", counts.errored),
            ("expired", counts.expired),
            ("canceled", counts.canceled),
            ("blocked", counts.blocked),
        )
        if n
    ]
    if problems:
        text += " (" + ", ".join(problems) + ")"
    return f"{text}, {status.replace('_', ' ')}"
