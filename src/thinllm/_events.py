"""The audit record: one immutable :class:`CallEvent` per call (schema ``thinllm.call/1``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ._frozen import draft_of

__all__ = ["SCHEMA", "CallEvent", "EventDraft", "chain_hash"]

SCHEMA = "thinllm.call/1"

#: Field order of the stored form; ``schema`` first, the hash chain last.
FIELDS = (
    "call_id",
    "ts",
    "latency_ms",
    "tags",
    "outcome",
    "route",
    "provider",
    "model",
    "region",
    "operation",
    "stream",
    "batch",
    "attempts",
    "usage",
    "cost_usd",
    "pii",
    "pii_action",
    "flag",
    "error",
    "prompt_hash",
    "finish_reason",
    "response_id",
    "options",
    "content",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True, slots=True)
class CallEvent:
    """What one call did, as recorded in every sink. Immutable; never holds secrets.

    Attribute names are the stored field names (see ``docs/audit.md``). ``to_dict()``
    gives the stored form with ``"schema": "thinllm.call/1"``.
    """

    call_id: str
    ts: str
    latency_ms: float
    tags: dict[str, str]
    outcome: str
    route: str | None
    provider: str | None
    model: str | None
    attempts: tuple[dict[str, Any], ...]
    usage: dict[str, int]
    cost_usd: str | None
    pii: dict[str, int] = field(default_factory=dict)
    pii_action: str | None = None
    flag: str | None = None
    error: dict[str, str] | None = None
    prompt_hash: str | None = None
    content: dict[str, Any] | None = None
    region: str | None = None
    operation: str = "chat"
    stream: bool = False
    batch: bool = False
    finish_reason: str | None = None
    response_id: str | None = None
    #: Call options as sent (``max_tokens``, ``temperature``, ``extra`` fields, …).
    options: dict[str, Any] = field(default_factory=dict)
    prev_hash: str | None = None
    hash: str | None = None

    @property
    def schema(self) -> str:
        """Always ``"thinllm.call/1"``."""
        return SCHEMA

    def to_dict(self) -> dict[str, Any]:
        """The stored, JSON-serialisable form."""
        out: dict[str, Any] = {"schema": SCHEMA}
        for name in FIELDS:
            value = getattr(self, name)
            out[name] = list(value) if name == "attempts" else value
        return out

    def to_json(self) -> str:
        """``to_dict()`` as compact JSON (keys in schema order)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False, default=str)

    def chained(self, prev_hash: str | None) -> CallEvent:
        """A copy linked into a store's hash chain after an event whose hash is ``prev_hash``."""
        from dataclasses import replace

        linked = replace(self, prev_hash=prev_hash, hash=None)
        return replace(linked, hash=chain_hash(linked.to_dict()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallEvent:
        """Rebuild an event from its stored form (unknown keys are ignored)."""
        if data.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} record: schema={data.get('schema')!r}")
        kwargs = {name: data[name] for name in FIELDS if name in data}
        kwargs["attempts"] = tuple(kwargs.get("attempts", ()))
        return cls(**kwargs)


#: Builds a :class:`CallEvent` with plain slot stores (see ``_frozen``): fill every
#: field of ``new(EventDraft)``, then set its ``__class__`` to ``CallEvent``.
EventDraft = draft_of(CallEvent)


def chain_hash(record: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a stored record, ``hash`` excluded.

    ``prev_hash`` is part of the hashed content, so editing, inserting or deleting any
    record breaks the chain from that point on.
    """
    body = {k: v for k, v in record.items() if k != "hash"}
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
