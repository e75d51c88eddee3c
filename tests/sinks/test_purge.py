"""Retention: purging old events keeps the rest verifiable, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sinkkit import build_event

from thinllm._store import open_store
from thinllm.errors import AuditIntegrityError
from thinllm.sinks import PostgresSink, SQLiteSink

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from thinllm._events import CallEvent

Writer = SQLiteSink | PostgresSink


def day(n: int) -> CallEvent:
    """An event recorded at 08:00 on 2026-11-n."""
    return build_event(n, ts=f"2026-11-{n:02d}T08:00:00+00:00")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "p.db")
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn


@pytest.fixture
def writer(target: str) -> Iterator[Callable[[], Writer]]:
    opened: list[Writer] = []

    def make() -> Writer:
        sink: Writer = PostgresSink(target) if "://" in target else SQLiteSink(target)
        opened.append(sink)
        return sink

    yield make
    for sink in opened:
        sink.close()


def filled(writer: Callable[[], Writer], days: range) -> Writer:
    """A new sink that has written one event on each of ``days``."""
    sink = writer()
    for n in days:
        sink(day(n))
    return sink


class TestPurge:
    def test_old_events_go_and_the_rest_still_verifies(
        self, target: str, writer: Callable[[], Writer]
    ) -> None:
        """Purging before a date deletes exactly the older events; verify passes afterwards."""
        filled(writer, range(1, 7))
        with open_store(target) as store:
            result = store.purge("2026-11-04")
            assert (result.deleted, result.remaining) == (3, 3)
            assert [e.ts[:10] for e in store.events()] == ["2026-11-04", "2026-11-05", "2026-11-06"]
            check = store.verify()
        assert (check.ok, check.checked) == (True, 3)
        assert result.anchor is not None

    def test_writing_after_a_purge_extends_the_anchored_chain(
        self, target: str, writer: Callable[[], Writer]
    ) -> None:
        """Sinks keep appending after a purge, and a second purge re-anchors again."""
        sink = filled(writer, range(1, 4))
        with open_store(target) as store:
            store.purge("2026-11-03")
        for n in range(4, 7):
            sink(day(n))
        with open_store(target) as store:
            assert store.verify().ok
            second = store.purge("2026-11-05")
            assert (second.deleted, second.remaining) == (2, 2)
            check = store.verify()
        assert (check.ok, check.checked) == (True, 2)

    def test_purging_everything_leaves_an_empty_valid_store(
        self, target: str, writer: Callable[[], Writer]
    ) -> None:
        """A cut-off after every event empties the store, which still verifies and accepts writes."""
        sink = filled(writer, range(1, 4))
        with open_store(target) as store:
            assert store.purge("2026-12-01").deleted == 3
            assert store.verify().ok
        sink(day(9))
        with open_store(target) as store:
            check = store.verify()
        assert (check.ok, check.checked) == (True, 1)

    def test_nothing_before_the_cutoff_changes_nothing(
        self, target: str, writer: Callable[[], Writer]
    ) -> None:
        """A cut-off older than every event deletes nothing and reports so."""
        sink = writer()
        sink(day(5))
        with open_store(target) as store:
            result = store.purge("2026-11-01")
            assert result.deleted == 0
            assert "nothing to purge" in result.describe()
            assert len(store.events()) == 1

    def test_deleting_a_kept_event_is_still_caught(
        self, target: str, writer: Callable[[], Writer]
    ) -> None:
        """After a purge, removing the first kept event by hand is reported as a deletion."""
        filled(writer, range(1, 6))
        with open_store(target) as store:
            store.purge("2026-11-03")
            first_kept = store.events()[0].call_id
        _sql(target, "DELETE FROM {events} WHERE call_id = %s", (first_kept,))
        with open_store(target) as store:
            bad = store.verify().first_bad
        assert bad is not None
        assert bad.kind == "deleted"

    def test_a_broken_chain_is_not_purged(self, target: str, writer: Callable[[], Writer]) -> None:
        """An edited old record makes purge refuse, deleting nothing, so evidence survives."""
        sink = writer()
        events = [day(n) for n in range(1, 5)]
        for event in events:
            sink(event)
        _sql(target, "UPDATE {events} SET outcome = 'error' WHERE call_id = %s", (events[1].call_id,))
        with open_store(target) as store:
            with pytest.raises(AuditIntegrityError, match="nothing was purged"):
                store.purge("2026-11-04")
            assert len(store.events()) == 4

    def test_deleted_content_is_not_left_in_the_sqlite_file(self, tmp_path: Path) -> None:
        """Purged content is overwritten in the database file, not just unlinked."""
        path = str(tmp_path / "p.db")
        secret = "old-ticket-text-" + "q" * 40
        with SQLiteSink(path) as sink:
            sink(build_event(1, ts="2026-11-01T08:00:00+00:00", content={"request": secret}))
            sink(day(5))
        with open_store(path) as store:  # move the rows from the WAL into the file first
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # Some SQLite builds (Debian's) overwrite deleted content by default; most don't.
            store._conn.execute("PRAGMA secure_delete = OFF")
            with open(path, "rb") as f:
                assert secret.encode() in f.read()
            assert store.purge("2026-11-03").deleted == 1
        for suffix in ("", "-wal"):
            try:
                with open(path + suffix, "rb") as f:
                    assert secret.encode() not in f.read()
            except FileNotFoundError:
                pass


def _sql(target: str, statement: str, params: tuple[str, ...]) -> None:
    """Run ``statement`` directly on the store, as someone with write access could."""
    if "://" in target:
        import psycopg

        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(statement.format(events="thinllm_events"), params)
        return
    import sqlite3

    conn = sqlite3.connect(target)
    with conn:
        conn.execute(statement.format(events="events").replace("%s", "?"), params)
    conn.close()
