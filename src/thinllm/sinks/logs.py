"""One structured log line per call through structlog, for apps that already ship logs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from thinllm._events import CallEvent

__all__ = ["StructlogSink"]

#: Outcomes logged at warning level; everything else is info.
_WARN = frozenset({"error", "fallback", "blocked"})


class StructlogSink:
    """Logs each event as ``thinllm.call`` with the record's fields as key/values.

    ``logger`` defaults to ``structlog.get_logger("thinllm")``. Calls whose outcome is
    ``error``, ``fallback`` or ``blocked`` log at warning level, the rest at info. The
    fields are exactly the stored record (``CallEvent.to_dict()``), so whatever
    content capture policy the client applied also applies here. Not chained: the
    log pipeline, not thinllm, decides where lines go.
    """

    def __init__(self, logger: Any = None) -> None:
        if logger is None:
            import structlog

            logger = structlog.get_logger("thinllm")
        self.logger = logger

    def __call__(self, event: CallEvent, /) -> None:
        """Log ``event``."""
        fields = event.to_dict()
        method = self.logger.warning if event.outcome in _WARN else self.logger.info
        method("thinllm.call", **fields)

    def __repr__(self) -> str:
        return "<StructlogSink>"
