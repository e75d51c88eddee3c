"""PostgresSink against a real server: fleet-safe chain, queries, tamper evidence."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sinkkit import EventFactory, run_python

from thinllm._store import open_store
from thinllm.errors import ConfigurationError
from thinllm.sinks import PostgresSink
from thinllm.sinks.postgres import safe_dsn

pytestmark = pytest.mark.postgres

#: Writes argv[3] events to PostgreSQL argv[1]; prints each call_id once committed.
CHILD_WRITER = """
import sys, uuid
from thinllm._events import CallEvent
from thinllm.sinks import PostgresSink
dsn, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sink = PostgresSink(dsn)
usage = {"input_tokens": 3, "output_tokens": 1, "cache_read_tokens": 1, "cache_write_tokens": 0}
for n in range(count):
    call_id = f"{prefix}-{n}-{uuid.uuid4().hex[:8]}"
    sink(CallEvent(call_id=call_id, ts="2026-11-10T09:00:00+00:00", latency_ms=1.0,
                   tags={"cost_center": prefix}, outcome="ok", route="primary",
                   provider="openai", model="gpt-6.1-terra", attempts=(), usage=usage,
                   cost_usd="0.000000001"))
    print(call_id, flush=True)
sink.close()
"""


class TestPostgresSink:
    def test_four_processes_one_chain(self, postgres_dsn: str) -> None:
        """Four processes sharing one database leave an exact count and one valid chain."""
        PostgresSink(postgres_dsn).close()
        children = [run_python(CHILD_WRITER, postgres_dsn, f"p{i}", "60") for i in range(4)]
        printed: set[str] = set()
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            printed.update(out.split())
        with open_store(postgres_dsn) as store:
            stored = {e.call_id for e in store.events()}
            result = store.verify()
            costs = store.costs(by="cost_center")
        assert (240, printed) == (len(printed), stored)
        assert result.ok, result.describe()
        assert [Decimal("0.000000060")] * 4 == [row["cost_usd"] for row in costs]

    def test_async_writes_share_commits(self, postgres_dsn: str, make_event: EventFactory) -> None:
        """Concurrent coroutines awaiting awrite are all stored, in one valid chain."""
        import asyncio

        events = [make_event(n) for n in range(50)]

        async def write_all(sink: PostgresSink) -> None:
            await asyncio.gather(*(sink.awrite(e) for e in events))

        with PostgresSink(postgres_dsn) as sink:
            asyncio.run(write_all(sink))
        with open_store(postgres_dsn) as store:
            result = store.verify()
        assert (result.ok, result.checked) == (True, 50)

    def test_batch_with_a_redelivered_event_keeps_the_chain(
        self, postgres_dsn: str, make_event: EventFactory
    ) -> None:
        """A batch holding an already stored event skips it and still links the rest."""
        events = [make_event(n) for n in range(6)]
        with PostgresSink(postgres_dsn) as sink:
            sink.write_many(events[:3])
            sink.write_many(events[2:])
            sink.write_many(events[:2])
        with open_store(postgres_dsn) as store:
            result = store.verify()
            ids = [e.call_id for e in store.events()]
        assert (result.ok, result.checked) == (True, 6)
        assert sorted(ids) == sorted(e.call_id for e in events)

    def test_tampering_is_caught(self, postgres_dsn: str, make_event: EventFactory) -> None:
        """An edited row and a deleted row in PostgreSQL are both reported by verify."""
        import psycopg

        events = [make_event(n) for n in range(6)]
        with PostgresSink(postgres_dsn) as sink:
            for event in events:
                sink(event)
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(
                "UPDATE thinllm_events SET cost_usd = '0' WHERE call_id = %s", (events[4].call_id,)
            )
        with open_store(postgres_dsn) as store:
            bad = store.verify().first_bad
        assert bad is not None
        assert ("altered", events[4].call_id) == (bad.kind, bad.call_id)
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM thinllm_events WHERE call_id = %s", (events[1].call_id,))
        with open_store(postgres_dsn) as store:
            bad = store.verify().first_bad
        assert bad is not None
        assert ("deleted", events[2].call_id) == (bad.kind, bad.call_id)

    def test_unreachable_server_fails_on_write_not_construction(
        self, make_event: EventFactory
    ) -> None:
        """A sink built while the database is down raises on write (so Delivery can spool)."""
        sink = PostgresSink("postgresql://nobody:s3cret@127.0.0.1:1/none?connect_timeout=2")
        with pytest.raises(ConfigurationError, match="cannot connect") as info:
            sink(make_event(0))
        assert "s3cret" not in str(info.value)
        assert "s3cret" not in repr(sink)
        sink.close()


class TestSafeDsn:
    def test_password_removed(self) -> None:
        """Reprs, logs and errors name the database without its password."""
        assert safe_dsn("postgresql://app:pw@db:5432/audit") == "postgresql://app@db:5432/audit"
