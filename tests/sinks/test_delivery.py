"""Delivery: fail-open by default, spool and re-deliver, fail-closed on request."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sinkkit import EventFactory

from thinllm._events import CallEvent
from thinllm.errors import AuditWriteError
from thinllm.sinks import Delivery, MemorySink


class Flaky:
    """A sink that fails while ``down`` is True, else stores in memory."""

    spool_key = "test:flaky"

    def __init__(self) -> None:
        self.down = False
        self.events: list[CallEvent] = []
        self.closed = False

    def __call__(self, event: CallEvent, /) -> None:
        if self.down:
            raise ConnectionError("store unreachable")
        self.events.append(event)

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class TestFailOpen:
    def test_failing_sink_never_breaks_the_call(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """A down sink does not raise into the caller; the event waits in the spool."""
        flaky, memory = Flaky(), MemorySink()
        flaky.down = True
        delivery = Delivery([flaky, memory], spool_dir=spool_dir)
        delivery.deliver(make_event(0))
        assert (delivery.pending, delivery.healthy, len(memory.events)) == (1, False, 1)

    def test_warns_once_per_outage(
        self, spool_dir: str, make_event: EventFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An outage logs one warning when it starts and one when it ends, not one per call."""
        flaky, clock = Flaky(), Clock()
        flaky.down = True
        delivery = Delivery([flaky], spool_dir=spool_dir, clock=clock)
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            for n in range(5):
                delivery.deliver(make_event(n))
            flaky.down = False
            clock.now = 60.0
            delivery.deliver(make_event(5))
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == 2
        assert "failed (ConnectionError)" in messages[0]
        assert "recovered; re-delivered 5" in messages[1]

    def test_redelivers_in_order_after_recovery(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """Once the sink is back, spooled events arrive before new ones, in call order."""
        flaky, clock = Flaky(), Clock()
        delivery = Delivery([flaky], spool_dir=spool_dir, clock=clock, retry_interval=5.0)
        events = [make_event(n) for n in range(6)]
        flaky.down = True
        delivery.deliver(events[0])
        delivery.deliver(events[1])
        flaky.down = False
        delivery.deliver(events[2])  # retry not due yet: spooled behind the others
        assert (flaky.events, delivery.pending) == ([], 3)
        clock.now = 5.0
        delivery.deliver(events[3])
        assert (events[:4], 0) == (flaky.events, delivery.pending)

    def test_retry_pending_ignores_the_interval(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """retry_pending() re-sends at once and says how many went."""
        flaky = Flaky()
        flaky.down = True
        delivery = Delivery([flaky], spool_dir=spool_dir, clock=Clock())
        delivery.deliver(make_event(0))
        delivery.deliver(make_event(1))
        flaky.down = False
        assert (delivery.retry_pending(), delivery.pending, delivery.healthy) == (2, 0, True)

    def test_spool_survives_the_process(self, spool_dir: str, make_event: EventFactory) -> None:
        """Events spooled by one process are re-delivered by the next one to start."""
        flaky = Flaky()
        flaky.down = True
        Delivery([flaky], spool_dir=spool_dir).deliver(make_event(0))
        flaky.down = False
        later = Delivery([flaky], spool_dir=spool_dir)
        assert later.pending == 1
        later.deliver(make_event(1))
        assert (len(flaky.events), later.pending) == (2, 0)

    def test_spool_is_private(self, spool_dir: str, make_event: EventFactory) -> None:
        """The spool (which may hold prompts) is readable by its owner only."""
        flaky = Flaky()
        flaky.down = True
        Delivery([flaky], spool_dir=spool_dir).deliver(make_event(0))
        (spool,) = Path(spool_dir).glob("*.jsonl")
        assert (spool.stat().st_mode & 0o777, Path(spool_dir).stat().st_mode & 0o777) == (
            0o600,
            0o700,
        )

    def test_close_closes_sinks_and_flushes_spool(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """close() tries the spool once more and closes every sink that can be closed."""
        flaky = Flaky()
        flaky.down = True
        delivery = Delivery([flaky], spool_dir=spool_dir, clock=Clock())
        delivery.deliver(make_event(0))
        flaky.down = False
        delivery.close()
        assert (flaky.closed, len(flaky.events), delivery.pending) == (True, 1, 0)


class TestFailClosed:
    def test_raises_audit_write_error_after_spooling(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """fail_closed turns a sink failure into AuditWriteError, chained, with the event kept."""
        flaky = Flaky()
        flaky.down = True
        delivery = Delivery([flaky], spool_dir=spool_dir, fail_closed=True)
        event = make_event(0)
        with pytest.raises(AuditWriteError, match=event.call_id) as info:
            delivery.deliver(event)
        assert isinstance(info.value.__cause__, ConnectionError)
        assert delivery.pending == 1

    def test_check_refuses_while_down(self, spool_dir: str, make_event: EventFactory) -> None:
        """check() is False while a sink is known down, and True again once it recovered."""
        flaky, clock = Flaky(), Clock()
        flaky.down = True
        delivery = Delivery([flaky], spool_dir=spool_dir, fail_closed=True, clock=clock)
        assert delivery.check()
        with pytest.raises(AuditWriteError):
            delivery.deliver(make_event(0))
        assert not delivery.check()
        flaky.down = False
        assert not delivery.check()  # retry not due yet
        clock.now = 10.0
        assert delivery.check()
        assert len(flaky.events) == 1

    def test_still_down_sink_raises_without_being_called(
        self, spool_dir: str, make_event: EventFactory
    ) -> None:
        """During an outage a fail-closed delivery refuses at once (no wait on a dead sink)."""
        flaky = Flaky()
        flaky.down = True
        delivery = Delivery([flaky], spool_dir=spool_dir, fail_closed=True, clock=Clock())
        for n in range(2):
            with pytest.raises(AuditWriteError):
                delivery.deliver(make_event(n))
        assert delivery.pending == 2
