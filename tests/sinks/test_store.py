"""The query layer: filters, cost roll-ups and errors, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sinkkit import build_event

from thinllm._store import SQLStore, open_store
from thinllm._store._types import parse_time
from thinllm.errors import ConfigurationError
from thinllm.sinks import PostgresSink, SQLiteSink


def _fill(sink: object) -> None:
    rows = [
        # (day, user, workflow, cost_center, model, outcome, in, out, cache_read, cost, prompt)
        (10, "ann", "triage", "cs-eu", "claude-sonnet-5-5", "ok", 1000, 10, 800, "0.000100", "p1"),
        (10, "bob", "triage", "cs-eu", "claude-sonnet-5-5", "ok", 1000, 20, 0, "0.000200", "p1"),
        (
            11,
            "ann",
            "summary",
            "cs-eu",
            "gpt-6.1-terra",
            "rerouted",
            500,
            30,
            0,
            "0.000000001",
            "p2",
        ),
        (12, "cid", "triage", "cs-us", "claude-sonnet-5-5", "error", 0, 0, 0, None, None),
        (13, "bob", "summary", "cs-us", "gpt-6.1-terra", "ok", 2000, 40, 1000, "0.123456789", "p3"),
    ]
    for n, (day, user, wf, cc, model, outcome, inp, out, cread, cost, prompt) in enumerate(rows):
        sink(  # type: ignore[operator]
            build_event(
                n,
                ts=f"2026-11-{day}T08:00:00Z",
                tags={"user": user, "workflow": wf, "cost_center": cc},
                model=model,
                outcome=outcome,
                usage={
                    "input_tokens": inp,
                    "output_tokens": out,
                    "cache_read_tokens": cread,
                    "cache_write_tokens": 0,
                },
                cost_usd=cost,
                prompt_hash=prompt,
            )
        )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLStore]:
    if request.param == "sqlite":
        target = str(tmp_path / "q.db")
        sink: SQLiteSink | PostgresSink = SQLiteSink(target)
    else:
        target = request.getfixturevalue("postgres_dsn")
        sink = PostgresSink(target)
    _fill(sink)
    sink.close()
    with open_store(target) as opened:
        yield opened


class TestEvents:
    def test_filters_combine(self, store: SQLStore) -> None:
        """Filters narrow together: a cost center's calls by one user."""
        found = store.events(cost_center="cs-eu", user="ann")
        assert [(e.tags["user"], e.tags["cost_center"]) for e in found] == [("ann", "cs-eu")] * 2

    @pytest.mark.parametrize(
        ("filters", "count"),
        [
            pytest.param({"since": "2026-11-11"}, 3, id="since"),
            pytest.param({"until": "2026-11-11"}, 2, id="until-exclusive"),
            pytest.param({"outcome": "error"}, 1, id="outcome"),
            pytest.param({"model": "gpt-6.1-terra"}, 2, id="model"),
            pytest.param({"workflow": "summary"}, 2, id="workflow"),
            pytest.param({}, 5, id="all"),
        ],
    )
    def test_each_filter(self, store: SQLStore, filters: dict[str, Any], count: int) -> None:
        """Each filter selects the calls a security reviewer would expect."""
        assert count == len(store.events(**filters))

    def test_limit_keeps_most_recent_oldest_first(self, store: SQLStore) -> None:
        """limit=2 gives the two latest calls, printed oldest first."""
        assert [e.ts for e in store.events(limit=2)] == [
            "2026-11-12T08:00:00Z",
            "2026-11-13T08:00:00Z",
        ]


class TestCosts:
    def test_by_cost_center(self, store: SQLStore) -> None:
        """Spend per cost center is exact to the nano-dollar, with tokens and cache ratio."""
        rows = store.costs(by=("cost_center",))
        assert [
            {
                "cost_center": "cs-eu",
                "calls": 3,
                "input_tokens": 2500,
                "output_tokens": 60,
                "cache_read_tokens": 800,
                "cache_write_tokens": 0,
                "cache_hit_ratio": 0.32,
                "cost_usd": Decimal("0.000300001"),
                "unpriced_calls": 0,
                "distinct_prompts": 2,
            },
            {
                "cost_center": "cs-us",
                "calls": 2,
                "input_tokens": 2000,
                "output_tokens": 40,
                "cache_read_tokens": 1000,
                "cache_write_tokens": 0,
                "cache_hit_ratio": 0.5,
                "cost_usd": Decimal("0.123456789"),
                "unpriced_calls": 1,
                "distinct_prompts": 1,
            },
        ] == rows

    def test_by_several_keys_since(self, store: SQLStore) -> None:
        """Grouping by cost center and model, from a date, splits the spend accordingly."""
        rows = store.costs(by="cost_center,model", since="2026-11-11")
        assert [(r["cost_center"], r["model"], r["calls"]) for r in rows] == [
            ("cs-eu", "gpt-6.1-terra", 1),
            ("cs-us", "claude-sonnet-5-5", 1),
            ("cs-us", "gpt-6.1-terra", 1),
        ]

    def test_unknown_group_key(self, store: SQLStore) -> None:
        """Grouping by a column that does not exist is a clear error, never SQL text."""
        with pytest.raises(ConfigurationError, match="choose from"):
            store.costs(by=("cost_center; DROP TABLE events",))


class TestOpenStore:
    def test_missing_file(self, tmp_path: Path) -> None:
        """A mistyped path says there is no store there instead of creating an empty one."""
        with pytest.raises(ConfigurationError, match="no audit store"):
            open_store(str(tmp_path / "nope.db"))
        assert not (tmp_path / "nope.db").exists()

    def test_sqlite_url(self, tmp_path: Path) -> None:
        """sqlite:///path works like a plain path."""
        path = tmp_path / "u.db"
        _fill(SQLiteSink(str(path)))
        with open_store(f"sqlite:///{path}") as store:
            assert len(store.events()) == 5

    def test_to_pandas(self, tmp_path: Path) -> None:
        """Notebook users get a DataFrame with one row per call and flat tag columns."""
        pytest.importorskip("pandas")
        path = tmp_path / "p.db"
        _fill(SQLiteSink(str(path)))
        with open_store(str(path)) as store:
            frame = store.to_pandas(cost_center="cs-us")
        assert (len(frame), list(frame["tag_user"])) == (2, ["cid", "bob"])


class TestParseTime:
    @pytest.mark.parametrize(
        ("text", "iso"),
        [
            pytest.param("2026-11-01", "2026-11-01T00:00:00+00:00", id="date"),
            pytest.param("2026-11-01T09:30Z", "2026-11-01T09:30:00+00:00", id="zulu"),
            pytest.param("7d", "2026-11-13T12:00:00+00:00", id="days"),
            pytest.param("12h", "2026-11-20T00:00:00+00:00", id="hours"),
        ],
    )
    def test_forms(self, text: str, iso: str) -> None:
        """--since accepts ISO dates and durations ago."""
        now = parse_time("2026-11-20T12:00:00Z")
        assert iso == parse_time(text, now=now).isoformat()  # type: ignore[union-attr]

    def test_garbage(self) -> None:
        """An unreadable time names the accepted forms."""
        with pytest.raises(ConfigurationError, match="ISO 8601"):
            parse_time("last tuesday")
