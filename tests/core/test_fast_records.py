"""The records built on every call's fast path equal what their public constructors build."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinllm import (
    Attempt,
    CallEvent,
    Client,
    Prompt,
    Reply,
    Route,
    RoutesExhaustedError,
    Tags,
    Usage,
    user,
)
from thinllm._call import Call, new_call
from thinllm._events import FIELDS
from thinllm._reply import new_attempt, new_usage
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault

counts = st.integers(min_value=0, max_value=10**9)
texts = st.none() | st.text(max_size=20)


def rebuilt(event: CallEvent) -> CallEvent:
    """The same event through the dataclass's own constructor (reads every field)."""
    return CallEvent(**{name: getattr(event, name) for name in FIELDS})


class TestFastConstructors:
    @given(counts, counts, counts, counts, counts)
    def test_usage_matches_the_dataclass(self, a: int, b: int, c: int, d: int, e: int) -> None:
        """new_usage gives a Usage equal to, hashing like and as immutable as Usage(...)."""
        fast, slow = new_usage(a, b, c, d, e), Usage(a, b, c, d, e)
        assert (type(slow), slow, hash(slow), repr(slow)) == (type(fast), fast, hash(fast), repr(fast))
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.input_tokens = 1  # type: ignore[misc]

    @given(st.text(max_size=10), st.text(max_size=10), st.none() | st.integers(100, 599), texts, st.floats(0, 1e6), texts, texts)
    def test_attempt_matches_the_dataclass(
        self, route: str, model: str, status: int | None, error: str | None, latency: float, skipped: str | None, message: str | None
    ) -> None:
        """new_attempt gives an Attempt equal to Attempt(...), with the same stored form."""
        fast = new_attempt(route, model, status, error, latency, skipped, message)
        slow = Attempt(route, model, status, error, latency, skipped, message)
        assert (type(slow), slow, slow.as_dict()) == (type(fast), fast, fast.as_dict())
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.route = "x"  # type: ignore[misc]


    def test_call_matches_the_dataclass(self) -> None:
        """new_call sets every field of Call, to what Call(...) would set (call_id aside)."""
        route = Route(FakeVendor().anthropic(), model="claude-sonnet-5-5")
        prompt = Prompt("s", messages=[user("hi")])
        args = (prompt, Tags(user="u"), {"max_tokens": 5}, [route], None, 12.5, None, 99.0)
        fast = new_call(*args)
        names = ("prompt", "tags", "options", "routes", "retry", "started", "output", "deadline_at")
        slow = Call(**dict(zip(names, args, strict=True)))
        for f in dataclasses.fields(Call):
            if f.name != "call_id":
                assert getattr(slow, f.name) == getattr(fast, f.name), f.name
        assert type(fast) is Call
        assert len(fast.call_id) == 32 and int(fast.call_id, 16) >= 0
        assert fast.call_id != new_call(*args).call_id
        assert fast.attempts is not new_call(*args).attempts  # fresh mutable state per call

    def test_ok_reply_sets_every_field_of_the_dataclass(self, fake: FakeVendor) -> None:
        """A successful call's Reply is a real Reply with every field set, as Reply(...) sets it."""
        client = Client([Route(fake.anthropic(), model="claude-sonnet-5-5")])
        fake.reply("fine")
        reply = client.complete(Prompt("s", messages=[user("hi")]), max_tokens=5)
        assert type(reply) is Reply
        values = {f.name: getattr(reply, f.name) for f in dataclasses.fields(Reply)}
        slow = Reply(**values)
        assert [getattr(slow, name) for name in values] == list(values.values())
        assert repr(slow) == repr(reply)
        assert (reply.text, reply.value, reply.outcome) == ("fine", "fine", "ok")
        assert reply.tool_calls == []


class TestFastEvents:
    def events(self, fake: FakeVendor) -> list[CallEvent]:
        """Events of an ok call, a fallback, an error, a blocked call and a rerouted call."""
        sink = MemorySink()
        client = Client(
            [Route(fake.anthropic(), model="claude-sonnet-5-5"), Route(fake.openai(), model="gpt-6.1-terra", name="b")],
            sinks=[sink],
            require_tags=("user",),
            sleep=lambda _: None,
        )
        prompt = Prompt("Be brief.", messages=[user("Mail jane.doe@example.com")])
        tags = Tags(user="alice", workflow="w")
        fake.reply("ok")
        client.complete(prompt, tags=tags, max_tokens=8, stop=["END"])
        fake.fail(Fault.bad_request("no"), times=1)
        client.complete(prompt, tags=tags, max_tokens=8, fallback=lambda: "legacy")
        fake.fail(Fault.bad_request("no"), times=1)
        with pytest.raises(RoutesExhaustedError):
            client.complete(prompt, tags=tags, max_tokens=8)
        with pytest.raises(Exception, match="missing required tags"):
            client.complete(prompt, max_tokens=8)
        fake.fail(Fault.overloaded(), times=3)
        fake.reply("late")
        client.complete(prompt, tags=tags, max_tokens=8)
        return sink.events

    def test_every_field_is_set_and_matches_the_dataclass(self, fake: FakeVendor) -> None:
        """Each recorded event is a real, immutable CallEvent whose every field is set."""
        events = self.events(fake)
        assert [e.outcome for e in events][:4] == ["ok", "fallback", "error", "blocked"]
        for event in events:
            assert type(event) is CallEvent
            assert rebuilt(event) == event
            assert CallEvent.from_dict(event.to_dict()) == event
            with pytest.raises(dataclasses.FrozenInstanceError):
                event.outcome = "x"  # type: ignore[misc]


@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False))
def test_event_timestamp_is_the_isoformat_of_the_start(ts: float) -> None:
    """The event's ts text equals datetime's own ISO form, to the microsecond, in UTC."""
    from datetime import UTC, datetime

    from thinllm._call import _iso

    assert datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds") == _iso(ts)
