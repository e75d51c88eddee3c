"""How a :class:`~thinllm.CallEvent` maps to a row of the SQL stores, and back.

Shared by the SQLite and PostgreSQL sinks and by the query layer (``thinllm._store``),
so the writer and the reader can never disagree about a column. The mapping must be
exact: ``verify()`` rebuilds each event from its columns and recomputes its hash.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import replace
from datetime import UTC, datetime
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring as _encode_str  # C version when built
from typing import TYPE_CHECKING, Any

from thinllm._events import SCHEMA, CallEvent

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "COLUMNS",
    "DERIVED",
    "JSON_COLUMNS",
    "SCHEMA_VERSION",
    "Prepared",
    "derived_values",
    "event_to_row",
    "insert_one_by_one",
    "link_all",
    "normalize",
    "row_to_event",
    "ts_to_us",
]

#: Version of the table layout (not of the event schema). Bump it and add a migration
#: in ``_sqlschema.py`` whenever a column or index changes.
SCHEMA_VERSION = 1

#: Event fields stored as JSON text (exactly as ``json.dumps`` wrote them).
JSON_COLUMNS = ("tags", "attempts", "usage", "pii", "error", "content", "options")

#: Event fields stored in a column of their own name.
PLAIN_COLUMNS = (
    "call_id",
    "ts",
    "latency_ms",
    "outcome",
    "route",
    "provider",
    "model",
    "region",
    "operation",
    "stream",
    "batch",
    "cost_usd",
    "pii_action",
    "flag",
    "prompt_hash",
    "finish_reason",
    "response_id",
    "prev_hash",
    "hash",
)

#: Columns copied out of the JSON fields so queries can filter and index them.
#: ``user`` is a reserved word in PostgreSQL (``SELECT user`` silently returns the
#: database role), hence the ``tag_`` prefix on the three tag columns.
DERIVED = (
    "ts_us",
    "tag_user",
    "tag_workflow",
    "tag_cost_center",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)

#: Every column written by the sinks, in insert order.
COLUMNS = PLAIN_COLUMNS + JSON_COLUMNS + DERIVED

_TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


# Encoders built once: ``json.dumps`` with non-default arguments builds a new encoder
# per call, which costs more than the encoding itself at 10,000 events/s.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode
#: Exactly the serialisation of :func:`thinllm._events.chain_hash` (tests hold them equal).
_CANONICAL_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


def _reusable_canonical() -> Callable[[Any], str]:
    """The canonical encoder as one reusable C object, when the C accelerator exists.

    ``JSONEncoder.encode`` builds a fresh C encoder on every call, which costs more than
    encoding the small dicts of an event (7 per event: ~20 µs of a ~33 µs row). Built
    once with the same settings (no circular-reference markers: events are trees), it
    writes the same text in a third of the time.
    """
    if _c_make_encoder is None:  # pragma: no cover - CPython always has it
        return _CANONICAL_ENCODER.encode
    enc = _CANONICAL_ENCODER
    iterencode = _c_make_encoder(
        None, enc.default, _encode_str, None, enc.key_separator, enc.item_separator,
        True, False, True,
    )  # fmt: skip

    def canonical(value: Any) -> str:
        return "".join(iterencode(value, 0))

    return canonical


_CANONICAL = _reusable_canonical()


def _dumps(value: Any) -> str:
    # Same serialisation rules as CallEvent.to_json, so the stored text re-hashes equal.
    return _ENCODE(value)


def ts_to_us(ts: str) -> int | None:
    """Microseconds since the epoch for an ISO 8601 timestamp (naive means UTC)."""
    try:
        parsed = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def normalize(event: CallEvent) -> CallEvent:
    """The event with values coerced to what the SQL columns give back.

    An ``int`` latency comes back from a REAL column as ``float``; the two are equal
    but serialise differently, so the hash is computed over the normalised form.
    """
    if type(event.latency_ms) is float:
        return event
    return replace(event, latency_ms=float(event.latency_ms))


def derived_values(event: CallEvent) -> tuple[Any, ...]:
    """The ``DERIVED`` column values for ``event``."""
    tags = event.tags or {}
    usage = event.usage or {}
    return (
        ts_to_us(event.ts),
        tags.get("user"),
        tags.get("workflow"),
        tags.get("cost_center"),
        *(int(usage.get(key, 0) or 0) for key in _TOKEN_KEYS),
    )


def _scalar(value: Any) -> str:
    # Byte-identical to what the canonical encoder writes for a top-level value, but
    # without building an encoder per value (the hot path of every SQL write).
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float) and math.isfinite(value):
        return float.__repr__(value)
    return _CANONICAL(value)


_SCHEMA_JSON = _encode_str(SCHEMA)


def _json_or_none(value: Any) -> str | None:
    return None if value is None else _CANONICAL(value)


class Prepared:
    """An event made ready for insertion before the write lock is taken.

    Everything that does not depend on the chain head (JSON texts, derived columns,
    the canonical text to hash around ``prev_hash``) is computed here, so the lock is
    held only to hash and insert. The canonical text equals what
    :func:`thinllm._events.chain_hash` hashes (a property test holds them equal).

    The body is written out field by field in sorted-key order (split around
    ``prev_hash``, the only key that depends on the chain head) rather than built by a
    loop over field names: this runs once per stored event (10,000 a second on a busy
    server) and the explicit form costs half as much. The hash property test fails if
    the order or a field is wrong.
    """

    __slots__ = ("head_part", "prefix", "suffix", "tail_part")

    def __init__(self, event: CallEvent) -> None:
        try:
            self._fill(event)
        except UnicodeEncodeError:  # a lone surrogate somewhere: store U+FFFD instead
            from ._unicode import repaired

            self._fill(repaired(event))

    def _fill(self, event: CallEvent) -> None:
        ev = event if type(event.latency_ms) is float else normalize(event)
        tags, attempts = _CANONICAL(ev.tags), _CANONICAL(list(ev.attempts))
        usage, pii = _CANONICAL(ev.usage), _CANONICAL(ev.pii)
        error, content = _json_or_none(ev.error), _json_or_none(ev.content)
        options = _json_or_none(ev.options)
        # Row layout: PLAIN_COLUMNS (prev_hash and hash last) + JSON + DERIVED.
        plain = (
            ev.call_id, ev.ts, ev.latency_ms, ev.outcome, ev.route, ev.provider, ev.model,
            ev.region, ev.operation, ev.stream, ev.batch, ev.cost_usd, ev.pii_action, ev.flag,
            ev.prompt_hash, ev.finish_reason, ev.response_id,
        )  # fmt: skip
        (call_id, ts, latency, outcome, route, provider, model, region, operation, stream,
         batch, cost, pii_action, flag, prompt_hash, finish, response_id) = map(
            _scalar, plain
        )  # fmt: skip
        self.prefix = (
            f'{{"attempts":{attempts},"batch":{batch},"call_id":{call_id},'
            f'"content":{content or "null"},"cost_usd":{cost},"error":{error or "null"},'
            f'"finish_reason":{finish},"flag":{flag},"latency_ms":{latency},"model":{model},'
            f'"operation":{operation},"options":{options or "null"},"outcome":{outcome},'
            f'"pii":{pii},"pii_action":{pii_action},"prev_hash":'
        ).encode()
        self.suffix = (
            f',"prompt_hash":{prompt_hash},"provider":{provider},"region":{region},'
            f'"response_id":{response_id},"route":{route},"schema":{_SCHEMA_JSON},'
            f'"stream":{stream},"tags":{tags},"ts":{ts},"usage":{usage}}}'
        ).encode()
        self.head_part = plain
        self.tail_part = (tags, attempts, usage, pii, error, content, options,
                          *derived_values(ev))  # fmt: skip

    def link(self, prev_hash: str | None) -> tuple[tuple[Any, ...], str]:
        """The row for this event after ``prev_hash``, and the event's own hash."""
        digest = hashlib.sha256(self.prefix + _scalar(prev_hash).encode() + self.suffix).hexdigest()
        return (*self.head_part, prev_hash, digest, *self.tail_part), digest


def link_all(
    prepared: Sequence[Prepared], head: str | None
) -> tuple[list[tuple[Any, ...]], str | None]:
    """The rows of ``prepared`` chained one after another from ``head``, and the new head.

    For a batch inserted in one statement; valid only if every row is then stored
    (see :func:`insert_one_by_one` for when one is a re-delivered duplicate).
    """
    rows = []
    for item in prepared:
        row, head = item.link(head or None)
        rows.append(row)
    return rows, head


def insert_one_by_one(
    insert: Callable[[tuple[Any, ...]], int], prepared: Sequence[Prepared], head: str, count: int
) -> tuple[str, int]:
    """Insert ``prepared`` row by row after ``head``; the new head and count.

    ``insert`` runs the INSERT (which skips a ``call_id`` already stored) and returns
    the number of rows it stored, so a re-delivered event neither counts nor becomes
    the predecessor of the next one.
    """
    for item in prepared:
        row, digest = item.link(head or None)
        if insert(row) == 1:
            head, count = digest, count + 1
    return head, count


def event_to_row(event: CallEvent) -> tuple[Any, ...]:
    """Column values for a chained event, in ``COLUMNS`` order."""
    plain = tuple(getattr(event, name) for name in PLAIN_COLUMNS)
    as_json = tuple(
        None if (value := getattr(event, name)) is None else _dumps(_listify(name, value))
        for name in JSON_COLUMNS
    )
    return plain + as_json + derived_values(event)


def _listify(name: str, value: Any) -> Any:
    return list(value) if name == "attempts" else value


def row_to_event(row: Sequence[Any]) -> CallEvent:
    """Rebuild the stored event from a row selected in ``COLUMNS`` order (derived ignored)."""
    data: dict[str, Any] = {"schema": SCHEMA, **dict(zip(PLAIN_COLUMNS, row, strict=False))}
    offset = len(PLAIN_COLUMNS)
    for index, name in enumerate(JSON_COLUMNS):
        value = row[offset + index]
        # psycopg decodes JSON columns itself; SQLite hands back the text.
        data[name] = json.loads(value) if isinstance(value, str | bytes) else value
    data["stream"] = bool(data["stream"])
    data["batch"] = bool(data["batch"])
    if data["latency_ms"] is not None:
        data["latency_ms"] = float(data["latency_ms"])
    return CallEvent.from_dict(data)
