"""Walking a hash chain to find the first altered, inserted or deleted event.

Streams the events (constant memory). Each event's hash is recomputed from its
content; each ``prev_hash`` must be the hash of the event before it. A broken link is
classified by looking one event behind and one ahead: if the chain carries on as if
an event were not there, that event was *inserted*; otherwise events are *deleted*
(missing) before the break. The store's recorded head and count catch events deleted
from, or appended to, the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from thinllm._events import chain_hash

from ._types import BadEvent, VerifyResult

if TYPE_CHECKING:
    from collections.abc import Iterable

    from thinllm._events import CallEvent

    from ._types import Kind

__all__ = ["verify_chain"]

#: (position, event, whether the store's copied columns agree with the event)
Row = tuple[int, "CallEvent", bool]


def verify_chain(
    rows: Iterable[Row],
    *,
    head: str | None = None,
    count: int | None = None,
    anchored: bool = True,
    start: str | None = None,
) -> VerifyResult:
    """Check the chain of ``rows`` (in chain order).

    ``head``/``count``: what the store recorded as its last hash and size (None to
    skip). ``anchored=False`` accepts any ``prev_hash`` on the first event (a log whose
    older files were rotated away). ``start``: the hash the first event must link to
    (the anchor a retention purge left; None for a store that was never purged).
    """
    before: str | None = None  # hash of the event before `last`
    last: str | None = start  # hash of the previous event
    suspect: tuple[Row, str | None] | None = None  # broken link awaiting look-ahead
    previous: Row | None = None
    n = 0
    for row in rows:
        _, event, columns_ok = row
        n += 1
        if suspect is not None:
            return _resolve(suspect, event.prev_hash, n - 1, head)
        if event.hash != chain_hash(event.to_dict()):
            return _bad("altered", "its content does not match its hash", row, n - 1, last)
        if not columns_ok:
            return _bad(
                "altered", "a copied column (tag, token count or time) was edited", row, n - 1, last
            )
        first = n == 1
        linked = event.prev_hash == last or (first and not anchored)
        if not linked:
            if previous is not None and before is not None and event.prev_hash == before:
                # The chain skips `previous`: it was slipped in between two real events.
                return _bad("inserted", "the chain links past this event", previous, n - 2, before)
            suspect = (row, last)
        before, last, previous = last, event.hash, row
    if suspect is not None:
        return _resolve(suspect, None, n - 1, head)
    if head is not None and head != (last or ""):
        if head == (before or "") and last is not None:
            return _end(
                "inserted", "the last event was added outside thinllm (the head is before it)", n
            )
        return _end(
            "deleted", "events at the end are missing (the recorded head is not the last event)", n
        )
    if count is not None and count != n:
        kind: Kind = "deleted" if count > n else "inserted"
        return _end(kind, f"the store recorded {count} events and holds {n}", n, last)
    return VerifyResult(True, n, last)


def _end(kind: Kind, detail: str, checked: int, last: str | None = None) -> VerifyResult:
    return VerifyResult(False, checked, last, BadEvent(kind, detail, None, None))


def _resolve(
    suspect: tuple[Row, str | None], next_prev: str | None, checked: int, head: str | None
) -> VerifyResult:
    (position, event, _), expected = suspect
    if next_prev is not None and next_prev == expected:
        bad = BadEvent("inserted", "this event is not part of the chain", position, event)
    elif next_prev is None and head is not None and head == expected:
        bad = BadEvent("inserted", "this last event was added outside the chain", position, event)
    else:
        bad = BadEvent(
            "deleted",
            "events before this one are missing (or the one before it was replaced)",
            position,
            event,
        )
    return VerifyResult(False, checked - 1, expected, bad)


def _bad(kind: Kind, detail: str, row: Row, checked: int, last: str | None) -> VerifyResult:
    position, event, _ = row
    return VerifyResult(False, checked, last, BadEvent(kind, detail, position, event))
