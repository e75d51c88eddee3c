"""StructlogSink: one structured line per call with the record's fields."""

from __future__ import annotations

from typing import Any

from sinkkit import EventFactory

from thinllm.sinks import StructlogSink


class Recorder:
    """A structlog-shaped logger keeping (level, event, fields)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def info(self, event: str, **kw: Any) -> None:
        self.lines.append(("info", event, kw))

    def warning(self, event: str, **kw: Any) -> None:
        self.lines.append(("warning", event, kw))


class TestStructlogSink:
    def test_one_line_with_the_record(self, make_event: EventFactory) -> None:
        """Each call logs 'thinllm.call' once, carrying exactly the stored record."""
        logger = Recorder()
        event = make_event(0)
        StructlogSink(logger)(event)
        assert [("info", "thinllm.call", event.to_dict())] == logger.lines

    def test_failures_log_at_warning(self, make_event: EventFactory) -> None:
        """Errors, fallbacks and blocked calls stand out at warning level."""
        logger = Recorder()
        sink = StructlogSink(logger)
        for outcome in ("ok", "rerouted", "fallback", "blocked", "error"):
            sink(make_event(0, outcome=outcome))
        assert [line[0] for line in logger.lines] == [
            "info",
            "info",
            "warning",
            "warning",
            "warning",
        ]

    def test_default_logger_is_structlog(self, make_event: EventFactory) -> None:
        """Without a logger the line goes through structlog's configured pipeline."""
        import structlog

        with structlog.testing.capture_logs() as logs:
            StructlogSink()(make_event(0))
        assert [entry["event"] for entry in logs] == ["thinllm.call"]
