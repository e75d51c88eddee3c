"""BufferedSink: off the call path, bounded, flushed, never silently lossy."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

import pytest
from sinkkit import EventFactory

from thinllm._store import open_store
from thinllm.errors import ConfigurationError
from thinllm.sinks import BufferedSink, MemorySink, SQLiteSink

if TYPE_CHECKING:
    from pathlib import Path

    from thinllm._events import CallEvent


class Gate:
    """A sink that holds the writer thread inside its first write until opened."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.events: list[CallEvent] = []

    def __call__(self, event: CallEvent, /) -> None:
        self.entered.set()
        self.opened.wait()
        self.events.append(event)


class TestBufferedSink:
    def test_flush_writes_everything(self, tmp_path: Path, make_event: EventFactory) -> None:
        """After flush() every queued event is in the store, in one valid chain."""
        path = str(tmp_path / "a.db")
        events = [make_event(n) for n in range(300)]
        with BufferedSink(SQLiteSink(path), spool_dir=str(tmp_path / "spool")) as sink:
            for event in events:
                sink(event)
            assert sink.flush()
            with open_store(path) as store:
                assert [e.call_id for e in events] == [e.call_id for e in store.events()]
                assert store.verify().ok

    def test_close_flushes_and_closes_the_sink(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """close() writes what is queued, then closes the wrapped sink."""
        inner = SQLiteSink(str(tmp_path / "a.db"))
        sink = BufferedSink(inner, spool_dir=str(tmp_path / "spool"))
        sink(make_event(0))
        sink.close()
        with pytest.raises(RuntimeError, match="closed"):
            inner(make_event(1))
        with open_store(str(tmp_path / "a.db")) as store:
            assert len(store.events()) == 1

    def test_drop_counts_and_warns_once(
        self, spool_dir: str, make_event: EventFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With on_full='drop', overflow is counted in .dropped and logged once, never silent."""
        gate = Gate()
        sink = BufferedSink(gate, maxsize=1, on_full="drop", spool_dir=spool_dir)
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            sink(make_event(0))
            gate.entered.wait()  # the writer holds event 0; the queue is empty
            for n in range(1, 5):
                sink(make_event(n))  # 1 is queued, 2..4 are dropped
        gate.opened.set()
        sink.close()
        assert (sink.dropped, len(gate.events)) == (3, 2)
        assert sum("dropping audit events" in r.getMessage() for r in caplog.records) == 1

    def test_block_loses_nothing(self, spool_dir: str, make_event: EventFactory) -> None:
        """With on_full='block', a full queue makes the caller wait; every event arrives."""
        gate = Gate()
        sink = BufferedSink(gate, maxsize=1, on_full="block", spool_dir=spool_dir)
        events = [make_event(n) for n in range(6)]
        producer = threading.Thread(target=lambda: [sink(e) for e in events])
        producer.start()
        gate.entered.wait()
        gate.opened.set()
        producer.join()
        sink.close()
        assert (events, 0) == (gate.events, sink.dropped)

    def test_failed_writes_are_spooled(self, spool_dir: str, make_event: EventFactory) -> None:
        """A wrapped sink that fails has its events spooled, not lost in the thread."""

        def broken(event: CallEvent) -> None:
            raise OSError("disk full")

        sink = BufferedSink(broken, spool_dir=spool_dir)
        sink(make_event(0))
        sink.flush()
        assert sink.pending == 1
        sink.close()

    def test_rejects_bad_policy(self) -> None:
        """A typo in on_full is an error at construction, not a silent default."""
        with pytest.raises(ConfigurationError):
            BufferedSink(MemorySink(), on_full="dropp")
