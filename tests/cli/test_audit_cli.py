"""``thinllm audit`` and ``thinllm costs`` on a real SQLite store."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import TYPE_CHECKING

import pytest

from thinllm._events import CallEvent
from thinllm._store import open_store
from thinllm.cli import main
from thinllm.sinks import SQLiteSink

if TYPE_CHECKING:
    from pathlib import Path


def _event(n: int, cost_center: str) -> CallEvent:
    return CallEvent(
        call_id=uuid.uuid4().hex,
        ts=f"2026-11-1{n}T10:00:00+00:00",
        latency_ms=100.0 + n,
        tags={"user": "ann@corp", "workflow": "triage", "cost_center": cost_center},
        outcome="error" if n == 2 else "ok",
        route="primary",
        provider="anthropic",
        model="claude-haiku-4-5",
        attempts=(),
        usage={
            "input_tokens": 100,
            "output_tokens": 10,
            "cache_read_tokens": 50,
            "cache_write_tokens": 0,
        },
        cost_usd="0.000125",
        prompt_hash="abc",
    )


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, list[CallEvent]]:
    path = str(tmp_path / "audit.db")
    events = [_event(n, "cs-eu" if n % 2 else "cs-us") for n in range(4)]
    with SQLiteSink(path) as sink:
        for event in events:
            sink(event)
    return path, events


class TestAudit:
    def test_json_lines_oldest_first(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--json prints one stored record per line, oldest first, readable as CallEvents."""
        path, events = db
        assert main(["audit", "--db", path, "--json"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [e.call_id for e in events] == [
            CallEvent.from_dict(json.loads(line)).call_id for line in lines
        ]

    def test_filters(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Filters on the command line select the same calls as the Python API."""
        path, events = db
        main(["audit", "--db", path, "--json", "--cost-center", "cs-eu", "--since", "2026-11-12"])
        lines = capsys.readouterr().out.splitlines()
        assert [events[3].call_id] == [json.loads(line)["call_id"] for line in lines]

    def test_table(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without --json a readable table lists each call with its tags and cost."""
        path, _ = db
        assert main(["audit", "--db", path, "--outcome", "error"]) == 0
        out = capsys.readouterr().out
        assert "cost_center" in out.splitlines()[0]
        assert (out.splitlines()[-1], "0.000125" in out) == ("(1 events)", True)

    def test_missing_store(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A wrong --db path exits 2 with a message, not a traceback."""
        assert main(["audit", "--db", str(tmp_path / "nope.db")]) == 2
        assert "no audit store" in capsys.readouterr().err


class TestAuditVerify:
    def test_intact(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """verify exits 0 and reports how many events it checked."""
        path, _ = db
        assert main(["audit", "verify", "--db", path]) == 0
        assert capsys.readouterr().out.startswith("ok: 4 events")

    def test_options_before_the_action(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """'thinllm audit --db X verify' works as well as 'thinllm audit verify --db X'."""
        path, _ = db
        assert main(["audit", "--db", path, "verify"]) == 0
        assert "ok" in capsys.readouterr().out

    def test_tampered(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An edited row makes verify exit 1 and name the altered event."""
        path, events = db
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE events SET cost_usd='0' WHERE call_id=?", (events[1].call_id,))
        conn.close()
        assert main(["audit", "verify", "--db", path, "--json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert (False, "altered", events[1].call_id) == (
            report["ok"],
            report["first_bad"]["kind"],
            report["first_bad"]["call_id"],
        )


class TestAuditPurge:
    def test_purge_then_verify(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """purge --before deletes the older events, says so, and verify still passes."""
        path, _ = db
        with open_store(path) as store:
            stored = store.events()
        assert main(["audit", "purge", "--db", path, "--before", "2026-11-12", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert (report["deleted"], report["remaining"]) == (2, 2)
        assert report["anchor"] == stored[1].hash == stored[2].prev_hash
        assert main(["audit", "verify", "--db", path]) == 0
        assert capsys.readouterr().out.startswith("ok: 2 events")

    def test_purge_needs_before(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """purge without --before deletes nothing and says what is missing."""
        path, _ = db
        assert main(["audit", "purge", "--db", path]) == 2
        assert "--before" in capsys.readouterr().err
        assert main(["audit", "verify", "--db", path]) == 0
        assert "4 events" in capsys.readouterr().out

    def test_tampered_store_is_not_purged(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """purge refuses (exit 1) when the records it would delete were edited."""
        path, events = db
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE events SET cost_usd='0' WHERE call_id=?", (events[0].call_id,))
        conn.close()
        assert main(["audit", "purge", "--db", path, "--before", "2026-11-12"]) == 1
        assert "refused" in capsys.readouterr().err
        assert main(["audit", "--db", path, "--json"]) == 0
        assert len(capsys.readouterr().out.splitlines()) == 4


class TestCosts:
    def test_json(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--json gives an array of groups with tokens, cache ratio and spend as a string."""
        path, _ = db
        assert main(["costs", "--db", path, "--by", "cost_center,model", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        first = rows[0]
        assert (
            len(rows),
            first["cost_center"],
            first["model"],
            first["calls"],
            first["cost_usd"],
            first["cache_hit_ratio"],
            first["distinct_prompts"],
        ) == (2, "cs-eu", "claude-haiku-4-5", 2, "0.000250", 0.5, 1)
        assert (
            first["input_tokens"],
            first["output_tokens"],
            first["cache_read_tokens"],
            first["cache_write_tokens"],
        ) == (200, 20, 100, 0)

    def test_table_has_total(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The table ends with a total line summing every group."""
        path, _ = db
        assert main(["costs", "--db", path]) == 0
        last = capsys.readouterr().out.splitlines()[-1].split()
        assert last == ["total", "4", "400", "40", "200", "0", "50.0%", "0.000500", "-"]

    def test_bad_group(
        self, db: tuple[str, list[CallEvent]], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An unknown --by key exits 2 and lists the valid ones."""
        path, _ = db
        assert main(["costs", "--db", path, "--by", "team"]) == 2
        assert "choose from" in capsys.readouterr().err
