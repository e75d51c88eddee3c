"""SQLiteSink: layout, concurrency, durability under kill -9, and tamper evidence."""

from __future__ import annotations

import signal
import sqlite3
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from sinkkit import EventFactory, run_python

from thinllm._store import open_store
from thinllm.errors import ConfigurationError
from thinllm.sinks import SQLiteSink
from thinllm.sinks._rows import COLUMNS, event_to_row

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

#: Writes argv[3] events to SQLite file argv[1], printing each call_id once the sink returned.
CHILD_WRITER = """
import sys, uuid
from thinllm._events import CallEvent
from thinllm.sinks import SQLiteSink
path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sink = SQLiteSink(path)
usage = {"input_tokens": 1, "output_tokens": 1, "cache_read_tokens": 0, "cache_write_tokens": 0}
for n in range(count):
    call_id = f"{prefix}-{n}-{uuid.uuid4().hex[:8]}"
    sink(CallEvent(call_id=call_id, ts="2026-11-10T09:00:00+00:00", latency_ms=1.0,
                   tags={"user": "u", "cost_center": prefix}, outcome="ok", route="primary",
                   provider="openai", model="gpt-6.1-terra", attempts=(), usage=usage,
                   cost_usd="0.000001"))
    print(call_id, flush=True)
"""


def _writer(path: str, prefix: str, count: int) -> subprocess.Popen[str]:
    return run_python(CHILD_WRITER, path, prefix, str(count))


class TestLayout:
    def test_records_schema_version_and_wal(self, tmp_path: Path) -> None:
        """A new store records its layout version and runs in WAL mode (readers never block)."""
        path = str(tmp_path / "a.db")
        SQLiteSink(path).close()
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
                "1",
            )
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.close()

    def test_refuses_a_newer_store(self, tmp_path: Path) -> None:
        """A file written by a newer thinllm is refused with a message saying to upgrade."""
        path = str(tmp_path / "a.db")
        SQLiteSink(path).close()
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
        conn.close()
        with pytest.raises(ConfigurationError, match="newer thinllm"):
            SQLiteSink(path)

    def test_refuses_an_unknown_older_layout(self, tmp_path: Path) -> None:
        """A layout this thinllm cannot migrate is refused rather than silently rewritten."""
        path = str(tmp_path / "a.db")
        SQLiteSink(path).close()
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
        conn.close()
        with pytest.raises(ConfigurationError, match="cannot migrate"):
            SQLiteSink(path)

    def test_refuses_a_foreign_database(self, tmp_path: Path) -> None:
        """Pointing the sink at some other application's database fails clearly."""
        path = str(tmp_path / "other.db")
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE customers (id INTEGER)")
        conn.close()
        with pytest.raises(ConfigurationError, match="not a thinllm audit store"):
            SQLiteSink(path)

    def test_refuses_a_non_database_file(self, tmp_path: Path) -> None:
        """A path to a text file is reported as not openable, not as a crash."""
        path = tmp_path / "notes.txt"
        path.write_text("hello" * 1000)
        with pytest.raises(ConfigurationError, match="cannot open"):
            SQLiteSink(str(path))


class TestWrites:
    def test_duplicate_call_id_is_stored_once(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """Re-delivering an event after an outage neither duplicates it nor breaks the chain."""
        path = str(tmp_path / "a.db")
        event = make_event(0)
        with SQLiteSink(path) as sink:
            sink(event)
            sink(event)
            sink(make_event(1))
        with open_store(path) as store:
            assert len(store.events()) == 2
            assert store.verify().ok

    def test_batch_with_a_redelivered_event_keeps_the_chain(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """A batch holding an already stored event skips it and still links the rest in order."""
        path = str(tmp_path / "a.db")
        events = [make_event(n) for n in range(6)]
        with SQLiteSink(path) as sink:
            sink.write_many(events[:3])
            sink.write_many(events[2:])
        with open_store(path) as store:
            result = store.verify()
            ids = [e.call_id for e in store.events()]
        assert (result.ok, result.checked) == (True, 6)
        assert sorted(ids) == sorted(e.call_id for e in events)

    def test_closed_sink_raises(self, tmp_path: Path, make_event: EventFactory) -> None:
        """Writing to a closed sink raises (so Delivery spools) instead of dropping the event."""
        sink = SQLiteSink(str(tmp_path / "a.db"))
        sink.close()
        with pytest.raises(RuntimeError, match="closed"):
            sink(make_event(0))

    def test_write_many_is_one_chain(self, tmp_path: Path, make_event: EventFactory) -> None:
        """Batched writes (the buffered path) extend the same chain as single writes."""
        path = str(tmp_path / "a.db")
        with SQLiteSink(path) as sink:
            sink(make_event(0))
            sink.write_many([make_event(n) for n in range(1, 50)])
            sink(make_event(50))
        with open_store(path) as store:
            result = store.verify()
        assert (result.ok, result.checked) == (True, 51)

    def test_threads_share_one_linear_chain(self, tmp_path: Path, make_event: EventFactory) -> None:
        """Eight threads writing at once leave every event stored once, in one valid chain."""
        path = str(tmp_path / "a.db")
        sink = SQLiteSink(path, durable=False)
        events = [make_event(n) for n in range(400)]

        def write(chunk: list[object]) -> None:
            for event in chunk:
                sink(event)

        threads = [threading.Thread(target=write, args=(events[i::8],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sink.close()
        with open_store(path) as store:
            assert {e.call_id for e in events} == {e.call_id for e in store.events()}
            assert store.verify().ok


class TestProcesses:
    def test_four_processes_one_chain(self, tmp_path: Path) -> None:
        """Four processes writing one file at once: exact count, one valid chain."""
        path = str(tmp_path / "shared.db")
        SQLiteSink(path).close()  # create first so the children race only on writes
        children = [_writer(path, f"p{i}", 150) for i in range(4)]
        printed = set()
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            printed.update(out.split())
        with open_store(path) as store:
            stored = {e.call_id for e in store.events()}
            result = store.verify()
        assert len(printed) == 600
        assert printed == stored
        assert result.ok, result.describe()

    def test_kill_9_loses_no_returned_event(self, tmp_path: Path) -> None:
        """Every call_id a killed process saw returned from the sink is in the store."""
        path = str(tmp_path / "crash.db")
        child = _writer(path, "crash", 1_000_000)
        assert child.stdout is not None
        printed = []
        for line in child.stdout:
            printed.append(line.strip())
            if len(printed) == 300:
                child.send_signal(signal.SIGKILL)
                break
        rest, _ = child.communicate(timeout=60)
        printed.extend(rest.split())
        assert child.returncode == -signal.SIGKILL
        with open_store(path) as store:
            stored = {e.call_id for e in store.events()}
            result = store.verify()
        assert set(printed) <= stored
        assert result.ok, result.describe()


def _tamper(path: str, *statements: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


@pytest.fixture
def store_of_ten(tmp_path: Path, make_event: EventFactory) -> tuple[str, list[str]]:
    path = str(tmp_path / "t.db")
    events = [make_event(n) for n in range(10)]
    with SQLiteSink(path) as sink:
        for event in events:
            sink(event)
    return path, [e.call_id for e in events]


class TestTamperEvidence:
    def _first_bad(self, path: str) -> tuple[str, str | None]:
        with open_store(path) as store:
            result = store.verify()
        assert not result.ok
        assert result.first_bad is not None
        return result.first_bad.kind, result.first_bad.call_id

    def test_edited_row_is_caught(self, store_of_ten: tuple[str, list[str]]) -> None:
        """Changing what a stored call said is reported as that event being altered."""
        path, ids = store_of_ten
        _tamper(path, f"UPDATE events SET outcome='ok', content=NULL WHERE call_id='{ids[3]}'")
        assert ("altered", ids[3]) == self._first_bad(path)

    def test_edited_copied_column_is_caught(self, store_of_ten: tuple[str, list[str]]) -> None:
        """Editing a query column (cost center) without its JSON original is caught too."""
        path, ids = store_of_ten
        _tamper(path, f"UPDATE events SET tag_cost_center='other' WHERE call_id='{ids[5]}'")
        assert ("altered", ids[5]) == self._first_bad(path)

    def test_deleted_row_is_caught(self, store_of_ten: tuple[str, list[str]]) -> None:
        """Deleting a stored call is reported at the event that follows the gap."""
        path, ids = store_of_ten
        _tamper(path, f"DELETE FROM events WHERE call_id='{ids[4]}'")
        assert ("deleted", ids[5]) == self._first_bad(path)

    def test_edit_and_delete_reports_the_earliest(
        self, store_of_ten: tuple[str, list[str]]
    ) -> None:
        """With an edit and a deletion, verify reports the first break in chain order."""
        path, ids = store_of_ten
        _tamper(
            path,
            f"DELETE FROM events WHERE call_id='{ids[2]}'",
            f"UPDATE events SET latency_ms=1 WHERE call_id='{ids[7]}'",
        )
        assert ("deleted", ids[3]) == self._first_bad(path)

    def test_deleted_last_row_is_caught(self, store_of_ten: tuple[str, list[str]]) -> None:
        """Deleting the most recent calls is caught through the recorded chain head."""
        path, ids = store_of_ten
        _tamper(path, f"DELETE FROM events WHERE call_id='{ids[9]}'")
        assert self._first_bad(path) == ("deleted", None)

    def test_forged_row_is_caught_as_inserted(self, store_of_ten: tuple[str, list[str]]) -> None:
        """A well-forged row (valid hash, linked to its predecessor) slipped in is reported."""
        path, ids = store_of_ten
        with open_store(path) as store:
            fifth = store.events()[5]
        forged = replace(fifth, call_id="forged", outcome="ok").chained(fifth.hash)
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE events SET seq = -seq")  # two steps: seq is unique
            conn.execute("UPDATE events SET seq = -seq * 10")
            seq = conn.execute("SELECT seq FROM events WHERE call_id=?", (ids[5],)).fetchone()[0]
            names = ", ".join(("seq", *COLUMNS))
            marks = ", ".join("?" * (len(COLUMNS) + 1))
            conn.execute(
                f"INSERT INTO events ({names}) VALUES ({marks})", (seq + 1, *event_to_row(forged))
            )
        conn.close()
        assert self._first_bad(path) == ("inserted", "forged")
