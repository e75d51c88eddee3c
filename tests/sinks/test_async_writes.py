"""Async writes: SQLiteSink.awrite and Delivery.adeliver never block the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

import pytest
from sinkkit import EventFactory

from thinllm._store import open_store
from thinllm.errors import AuditWriteError
from thinllm.sinks import Delivery, MemorySink, SQLiteSink

if TYPE_CHECKING:
    from pathlib import Path

    from thinllm._events import CallEvent


def flushers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "thinllm-audit-flusher"]


class TestSQLiteAwrite:
    def test_concurrent_tasks_are_all_stored_in_one_chain(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """Two hundred concurrent coroutines each return only once their event is stored."""
        path = str(tmp_path / "a.db")
        events = [make_event(n) for n in range(200)]
        stored_on_return: list[bool] = []

        async def main(sink: SQLiteSink) -> None:
            async def one(event: CallEvent) -> None:
                await sink.awrite(event)
                with sqlite3.connect(path) as check:
                    row = check.execute(
                        "SELECT 1 FROM events WHERE call_id=?", (event.call_id,)
                    ).fetchone()
                check.close()
                stored_on_return.append(row is not None)

            await asyncio.gather(*(one(e) for e in events))

        with SQLiteSink(path) as sink:
            asyncio.run(main(sink))
        assert stored_on_return == [True] * 200
        with open_store(path) as store:
            result = store.verify()
        assert (result.ok, result.checked) == (True, 200)

    def test_the_loop_keeps_running_while_the_store_is_locked(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """While another writer holds the database, other coroutines still run."""
        path = str(tmp_path / "a.db")
        with SQLiteSink(path, timeout=10.0) as sink:
            blocker = sqlite3.connect(path, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")  # holds the write lock
            ticks = 0

            async def main() -> None:
                nonlocal ticks
                write = asyncio.ensure_future(sink.awrite(make_event(1)))
                for _ in range(20):
                    await asyncio.sleep(0)
                    ticks += 1
                assert not write.done()  # still waiting for the lock
                blocker.execute("COMMIT")
                await write

            asyncio.run(main())
            blocker.close()
        assert ticks == 20
        with open_store(path) as store:
            assert len(store.events()) == 1

    def test_a_cancelled_caller_still_gets_its_event_stored(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """Cancelling the awaiting task does not lose the event it handed over."""
        path = str(tmp_path / "a.db")
        event = make_event(1)
        with SQLiteSink(path) as sink:
            blocker = sqlite3.connect(path, isolation_level=None)
            blocker.execute("BEGIN IMMEDIATE")

            async def main() -> None:
                write = asyncio.ensure_future(sink.awrite(event))
                await asyncio.sleep(0)
                write.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await write
                blocker.execute("COMMIT")

            asyncio.run(main())
            blocker.close()
        with open_store(path) as store:
            assert [e.call_id for e in store.events()] == [event.call_id]

    def test_loops_in_several_threads_share_the_sink(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """Coroutines on event loops in different threads each get their events stored."""
        path = str(tmp_path / "a.db")
        events = [make_event(n) for n in range(60)]

        async def write_all(sink: SQLiteSink, batch: list[CallEvent]) -> None:
            await asyncio.gather(*(sink.awrite(e) for e in batch))

        with SQLiteSink(path) as sink:
            threads = [
                threading.Thread(target=asyncio.run, args=(write_all(sink, events[i::3]),))
                for i in range(3)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        with open_store(path) as store:
            result = store.verify()
        assert (result.ok, result.checked) == (True, 60)

    def test_close_ends_the_background_thread(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """Closing the sink leaves no background thread behind."""
        before = len(flushers())
        sink = SQLiteSink(str(tmp_path / "a.db"))
        asyncio.run(sink.awrite(make_event(1)))
        assert len(flushers()) == before + 1
        sink.close()
        assert len(flushers()) == before

    def test_write_to_a_closed_sink_raises(self, tmp_path: Path, make_event: EventFactory) -> None:
        """An async write after close raises (so Delivery spools) instead of hanging."""
        sink = SQLiteSink(str(tmp_path / "a.db"))
        sink.close()
        with pytest.raises(RuntimeError, match="closed"):
            asyncio.run(sink.awrite(make_event(1)))


class Down:
    """An async-capable sink that is unreachable."""

    spool_key = "test:down"

    def __call__(self, event: CallEvent, /) -> None:
        raise AssertionError("the async path must use awrite")

    async def awrite(self, event: CallEvent, /) -> None:
        raise ConnectionError("store unreachable")


class Recovering:
    """A sink that is down until ``up``; then each write waits for ``gate`` (a slow store)."""

    def __init__(self) -> None:
        self.up = False
        self.gate = threading.Event()
        self.events: list[CallEvent] = []

    def __call__(self, event: CallEvent, /) -> None:
        if not self.up:
            raise ConnectionError("store unreachable")
        self.gate.wait(2.0)
        self.events.append(event)


class TestAdeliver:
    def test_failing_awrite_spools_and_the_call_goes_on(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """An async sink that fails gets the event spooled; other sinks still get it."""
        memory = MemorySink()
        delivery = Delivery([Down(), memory], spool_dir=spool_dir)
        asyncio.run(delivery.adeliver(make_event(1)))
        assert delivery.pending == 1
        assert len(memory.events) == 1

    def test_fail_closed_raises_after_spooling(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """A fail-closed client refuses the async call when its sink cannot record it."""
        delivery = Delivery([Down()], spool_dir=spool_dir, fail_closed=True)
        with pytest.raises(AuditWriteError):
            asyncio.run(delivery.adeliver(make_event(1)))
        assert delivery.pending == 1

    def test_spool_drains_into_a_recovered_sink_without_blocking_the_loop(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """After an outage, the re-send of the spool runs off the event loop: other
        coroutines keep running while it drains, and every event arrives in order."""
        sink = Recovering()
        delivery = Delivery([sink], spool_dir=spool_dir, retry_interval=0.0)
        events = [make_event(n) for n in range(4)]
        for event in events[:3]:
            delivery.deliver(event)  # the sink is down: spooled
        assert delivery.pending == 3
        sink.up = True
        ticks = 0

        async def main() -> None:
            nonlocal ticks
            task = asyncio.ensure_future(delivery.adeliver(events[3]))
            for _ in range(50):
                await asyncio.sleep(0)
                ticks += 1
            assert not task.done()  # the drain is waiting on the sink, the loop is not
            sink.gate.set()
            await task

        asyncio.run(main())
        assert ticks == 50
        assert [e.call_id for e in sink.events] == [e.call_id for e in events]
        assert delivery.pending == 0

    def test_sqlite_sink_is_awaited(
        self, tmp_path: Path, spool_dir: str, make_event: EventFactory
    ) -> None:
        """Delivery stores through SQLiteSink's async path and the event is durable on return."""
        path = str(tmp_path / "a.db")
        before = len(flushers())
        with SQLiteSink(path) as sink:
            delivery = Delivery([sink], spool_dir=spool_dir)
            asyncio.run(delivery.adeliver(make_event(1)))
            assert len(flushers()) == before + 1  # the async path did the write
            with open_store(path) as store:
                assert len(store.events()) == 1


class TestAsyncClientCalls:
    """Async client calls hand their event to the sink's async path."""

    @staticmethod
    def client(tmp_path: Path, *, fail_closed: bool = False, sinks: list[Any] | None = None) -> Any:
        from thinllm import Client, Route
        from thinllm.testing import FakeVendor

        fake = FakeVendor()
        fake.reply("hello there")
        sink_list = sinks if sinks is not None else [SQLiteSink(str(tmp_path / "a.db"))]
        return Client(
            [Route(fake.async_anthropic(), model="claude-sonnet-5-5")],
            sinks=sink_list,
            fail_closed=fail_closed,
            spool_dir=str(tmp_path / "spool"),
        )

    @staticmethod
    def prompt() -> Any:
        from thinllm import Prompt, user

        return Prompt(system="Be brief.", messages=[user("hi")])

    def test_acomplete_event_is_stored_without_blocking_the_loop(self, tmp_path: Path) -> None:
        """While the audit store is locked, other coroutines run; the call returns once stored."""
        client = self.client(tmp_path)
        path = str(tmp_path / "a.db")
        blocker = sqlite3.connect(path, isolation_level=None)
        ticks = 0

        async def main() -> str:
            nonlocal ticks
            blocker.execute("BEGIN IMMEDIATE")
            call = asyncio.ensure_future(client.acomplete(self.prompt(), max_tokens=8))
            for _ in range(200):
                await asyncio.sleep(0)
                ticks += 1
            assert not call.done()  # waiting for the audit write, not blocking the loop
            blocker.execute("COMMIT")
            reply = await call
            return str(reply.call_id)

        call_id = asyncio.run(main())
        blocker.close()
        client.close()
        assert ticks == 200
        with open_store(path) as store:
            assert [e.call_id for e in store.events()] == [call_id]

    def test_astream_and_async_wrap_events_are_stored(self, tmp_path: Path) -> None:
        """Finished, abandoned and native-wrapped async calls each leave one stored event."""
        client = self.client(tmp_path)
        before = len(flushers())

        async def main() -> None:
            async with client.astream(self.prompt(), max_tokens=8) as stream:
                async for _ in stream:
                    pass
            async with client.astream(self.prompt(), max_tokens=8):
                pass  # abandoned before reading
            vendor = client.routes[0].sdk
            wrapped = client.wrap(vendor)
            await wrapped.messages.create(
                model="claude-sonnet-5-5",
                max_tokens=8,
                messages=[{"role": "user", "content": "hi"}],
            )
            assert len(flushers()) == before + 1  # written by the async path

        asyncio.run(main())
        client.close()
        with open_store(str(tmp_path / "a.db")) as store:
            events = store.events()
            assert store.verify().ok
        assert [e.stream for e in events] == [True, True, False]
        assert events[1].finish_reason == "abandoned"

    def test_fail_closed_async_call_raises_when_the_sink_fails(self, tmp_path: Path) -> None:
        """A fail-closed client refuses an async call whose event could not be recorded."""
        client = self.client(tmp_path, fail_closed=True, sinks=[Down()])
        with pytest.raises(AuditWriteError):
            asyncio.run(client.acomplete(self.prompt(), max_tokens=8))
        assert client.delivery.pending == 1
        client.close()
