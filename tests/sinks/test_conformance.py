"""The same contract, checked against every sink that stores events."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sinkkit import FAKE_KEY, EventFactory

from thinllm._events import CallEvent
from thinllm._store import open_store
from thinllm._store._verify import verify_chain
from thinllm.sinks import BufferedSink, Delivery, JSONLSink, MemorySink, PostgresSink, SQLiteSink
from thinllm.sinks.jsonl import jsonl_files

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


@dataclass
class Harness:
    """A sink under test, how to read back what it stored, and whether it chains."""

    sink: Any
    read: Callable[[], list[CallEvent]]
    chained: bool
    raw: Callable[[], str]


def _read_jsonl(path: str) -> list[CallEvent]:
    out: list[CallEvent] = []
    for file in jsonl_files(path):
        with open(file, encoding="utf-8") as f:
            out.extend(CallEvent.from_dict(json.loads(line)) for line in f if line.strip())
    return out


def _raw_files(*paths: str) -> Callable[[], str]:
    def read() -> str:
        return "".join(Path(p).read_text("utf-8", "replace") for p in paths if Path(p).exists())

    return read


def _store_reader(target: str) -> Callable[[], list[CallEvent]]:
    def read() -> list[CallEvent]:
        with open_store(target) as store:
            return store.events()

    return read


def _memory(tmp_path: Path, dsn: str | None) -> Harness:
    sink = MemorySink()
    return Harness(sink, lambda: list(sink.events), False, lambda: repr(sink.events))


def _sqlite(tmp_path: Path, dsn: str | None) -> Harness:
    path = str(tmp_path / "audit.db")
    return Harness(SQLiteSink(path), _store_reader(path), True, _raw_files(path, path + "-wal"))


def _jsonl(tmp_path: Path, dsn: str | None) -> Harness:
    path = str(tmp_path / "audit.jsonl")
    sink = JSONLSink(path, max_bytes=4000)
    return Harness(sink, lambda: _read_jsonl(path), True, lambda: "")


def _buffered_sqlite(tmp_path: Path, dsn: str | None) -> Harness:
    path = str(tmp_path / "buffered.db")
    sink = BufferedSink(SQLiteSink(path), spool_dir=str(tmp_path / "spool"))

    def read() -> list[CallEvent]:
        sink.flush()
        return _store_reader(path)()

    return Harness(sink, read, True, _raw_files(path, path + "-wal"))


def _postgres(tmp_path: Path, dsn: str | None) -> Harness:
    assert dsn is not None
    return Harness(PostgresSink(dsn), _store_reader(dsn), True, lambda: "")


SINKS = [
    pytest.param(_memory, id="memory"),
    pytest.param(_sqlite, id="sqlite"),
    pytest.param(_jsonl, id="jsonl"),
    pytest.param(_buffered_sqlite, id="buffered-sqlite"),
    pytest.param(_postgres, id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=SINKS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    factory = request.param
    dsn = request.getfixturevalue("postgres_dsn") if factory is _postgres else None
    built = factory(tmp_path, dsn)
    yield built
    close = getattr(built.sink, "close", None)
    if close is not None:
        close()


def _unchained(event: CallEvent) -> CallEvent:
    return replace(event, prev_hash=None, hash=None)


class TestEverySink:
    def test_events_round_trip_exactly(self, harness: Harness, make_event: EventFactory) -> None:
        """What a sink stores reads back as the very event that was written (no field lost)."""
        events = [make_event(n) for n in range(12)]
        for event in events:
            harness.sink(event)
        stored = harness.read()
        assert [_unchained(e) for e in events] == [_unchained(e) for e in stored]

    def test_odd_values_survive(self, harness: Harness, make_event: EventFactory) -> None:
        """Unicode, integer latencies, nulls and nested options are stored without change."""
        event = make_event(
            latency_ms=7,
            tags={"user": "zoë@corp", "tenant": "ac\u00e9me"},
            content={"request": 'emoji 🚀 and "quotes"\nnew line', "response": None},
            options={"extra": {"metadata": {"a": [1, 2.5, None]}}, "stop": ["\n\n"]},
            cost_usd=None,
            error={"type": "overloaded_error", "message": "try later"},
            outcome="fallback",
            route=None,
            stream=True,
        )
        harness.sink(event)
        (stored,) = harness.read()
        assert _unchained(event) == _unchained(stored)

    def test_lone_surrogates_are_stored_as_replacement_characters(
        self, harness: Harness, make_event: EventFactory
    ) -> None:
        """Text that is not valid Unicode (a lone surrogate) still gets its call recorded."""
        event = make_event(
            tags={"user": "x\udcff"},
            content={"request": "bad \ud800 text, good \ud83d\ude00 pair", "response": "ok"},
        )
        harness.sink(event)
        harness.sink(make_event(1))
        stored = harness.read()
        assert len(stored) == 2
        if harness.chained:
            assert stored[0].tags["user"] == "x\ufffd"
            assert stored[0].content == {
                "request": "bad \ufffd text, good 😀 pair",
                "response": "ok",
            }
            result = verify_chain((i, e, True) for i, e in enumerate(stored))
            assert result.ok, result.describe()

    def test_chain_verifies(self, harness: Harness, make_event: EventFactory) -> None:
        """Chained sinks link each event to the one before; the others keep events as built."""
        events = [make_event(n) for n in range(8)]
        for event in events:
            harness.sink(event)
        stored = harness.read()
        if not harness.chained:
            assert events == stored
            return
        result = verify_chain((i, e, True) for i, e in enumerate(stored))
        assert result.ok, result.describe()
        assert stored[0].prev_hash is None

    def test_stores_exactly_what_the_event_holds(
        self, harness: Harness, make_event: EventFactory
    ) -> None:
        """A sink adds nothing of its own: text is present only if the event carried it."""
        harness.sink(make_event(0, content={"request": "hello", "response": "world"}))
        harness.read()
        assert FAKE_KEY not in harness.raw()
        carried = {"request": f"key {FAKE_KEY}", "response": ""}
        harness.sink(make_event(1, content=carried))
        assert carried == harness.read()[1].content


class TestDeliverySpool:
    def test_spool_takes_events_with_lone_surrogates(
        self, tmp_path: Path, spool_dir: str, make_event: EventFactory
    ) -> None:
        """A failing sink's spool keeps an event with invalid Unicode; the call is not broken."""

        def broken(event: CallEvent) -> None:
            raise ConnectionError("down")

        delivery = Delivery([broken], spool_dir=spool_dir)
        delivery.deliver(make_event(content={"request": "bad \ud800", "response": None}))
        assert delivery.pending == 1

    def test_spool_holds_only_event_json(
        self, tmp_path: Path, spool_dir: str, make_event: EventFactory
    ) -> None:
        """The fallback spool file contains the event records and nothing else (no DSN, no sink)."""

        def broken(event: CallEvent) -> None:
            raise ConnectionError("password=hunter2 rejected")

        delivery = Delivery([broken], spool_dir=spool_dir)
        events = [make_event(n) for n in range(3)]
        for event in events:
            delivery.deliver(event)
        (spool,) = Path(spool_dir).glob("*.jsonl")
        lines = spool.read_text("utf-8").splitlines()
        assert [e.to_json() for e in events] == lines
        assert "hunter2" not in spool.read_text("utf-8")
