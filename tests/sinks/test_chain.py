"""Hash chains: the SQL sinks' fast hashing agrees with CallEvent, and verify classifies breaks."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from sinkkit import build_event

from thinllm._events import CallEvent
from thinllm._store._verify import verify_chain
from thinllm.sinks._rows import Prepared, event_to_row, row_to_event

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _chain(n: int) -> list[CallEvent]:
    out: list[CallEvent] = []
    for i in range(n):
        out.append(build_event(i).chained(out[-1].hash if out else None))
    return out


def _rows(events: list[CallEvent]) -> list[tuple[int, CallEvent, bool]]:
    return [(i, e, True) for i, e in enumerate(events)]


class TestPreparedHash:
    @given(
        content=st.none() | st.dictionaries(st.text(), _json, max_size=3),
        options=st.dictionaries(st.text(), _json, max_size=3),
        tags=st.dictionaries(st.text(), st.text(), max_size=3),
        latency=st.integers(0, 10**6) | st.floats(0, 1e6),
        prev=st.none() | st.text(min_size=1, max_size=64),
        cost=st.none() | st.decimals(places=6, allow_nan=False, allow_infinity=False).map(str),
        error=st.none() | st.dictionaries(st.text(), st.text(), max_size=2),
        text=st.none() | st.text(),
        flags=st.booleans(),
    )
    def test_matches_chain_hash(
        self,
        *,
        content: dict[str, object] | None,
        options: dict[str, object],
        tags: dict[str, str],
        latency: float,
        prev: str | None,
        cost: str | None,
        error: dict[str, str] | None,
        text: str | None,
        flags: bool,
    ) -> None:
        """The SQL sinks' hash equals CallEvent.chained(), so stores written fast still verify."""
        event = build_event(
            1,
            content=content,
            options=options,
            tags=tags,
            latency_ms=latency,
            cost_usd=cost,
            error=error,
            region=text,
            model=text,
            finish_reason=text,
            stream=flags,
            batch=not flags,
        )
        row, digest = Prepared(event).link(prev)
        expected = replace(event, latency_ms=float(latency)).chained(prev)
        assert expected.hash == digest
        assert expected == row_to_event(row)

    def test_row_round_trip(self) -> None:
        """A chained event turned into a row and back is the same event."""
        event = build_event(3).chained("f" * 64)
        assert event == row_to_event(event_to_row(event))


class TestVerifyChain:
    def test_intact_chain(self) -> None:
        """An untouched chain verifies and reports its head for anchoring elsewhere."""
        events = _chain(5)
        result = verify_chain(_rows(events), head=events[-1].hash, count=5)
        assert (True, 5, events[-1].hash) == (result.ok, result.checked, result.head)

    def test_altered(self) -> None:
        """An event whose content changed is reported as altered."""
        events = _chain(5)
        events[2] = replace(events[2], outcome="error")
        bad = verify_chain(_rows(events)).first_bad
        assert bad is not None
        assert ("altered", events[2].call_id) == (bad.kind, bad.call_id)

    def test_rehashed_edit_breaks_the_next_link(self) -> None:
        """An edit whose hash was recomputed still shows as a break at the next event."""
        events = _chain(5)
        events[2] = replace(events[2], outcome="error").chained(events[1].hash)
        bad = verify_chain(_rows(events)).first_bad
        assert bad is not None
        assert ("deleted", events[3].call_id) == (bad.kind, bad.call_id)

    def test_deleted_first(self) -> None:
        """Deleting the very first event is caught (the chain must start from nothing)."""
        events = _chain(4)[1:]
        bad = verify_chain(_rows(events)).first_bad
        assert bad is not None
        assert ("deleted", events[0].call_id) == (bad.kind, bad.call_id)

    def test_unanchored_accepts_a_rotated_start(self) -> None:
        """A log whose oldest files were rotated away verifies from where it starts."""
        assert verify_chain(_rows(_chain(4)[1:]), anchored=False).ok

    def test_count_mismatch(self) -> None:
        """A store that recorded more events than it holds is reported."""
        events = _chain(3)
        result = verify_chain(_rows(events), head=events[-1].hash, count=4)
        assert result.first_bad is not None
        assert result.first_bad.kind == "deleted"
