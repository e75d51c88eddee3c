"""What one case and epoch produced (:class:`Record`) and the append-only results file.

``results.jsonl`` gets one flushed line per finished (case, epoch). A crashed run
leaves at most a torn last line, which :func:`read_records` skips; a resumed run
appends, and the last line for a (case, epoch) wins.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

__all__ = ["GradeRecord", "Record", "ResultsWriter", "read_records"]

ZERO_USAGE = {
    "input_tokens": 0,
    "output_tokens": 0,
    "cache_read_tokens": 0,
    "cache_write_tokens": 0,
}


@dataclass(frozen=True, slots=True)
class GradeRecord:
    """One grader's result as stored: who graded, the verdict, why, and judge spend."""

    name: str
    version: str
    passed: bool
    score: float | None
    reason: str
    required: bool = True
    weight: float = 1.0
    from_cache: bool = False
    usage: Mapping[str, int] = field(default_factory=dict)
    cost_usd: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One case at one epoch: output, grades, tokens, cost, latency and retries.

    ``passed`` is ``None`` when the case errored (errors are counted apart from
    failures). ``cost_usd`` is what this run spent (zero on a cache hit);
    ``cost_equiv_usd`` what the answer costs uncached, so arms compare fairly.
    ``latency_ms`` is the vendor call's latency, kept from the original call on a
    cache hit for the same reason.
    """

    case_id: str
    case_hash: str
    epoch: int
    arm: str
    output: str | None
    passed: bool | None
    score: float | None
    grades: tuple[GradeRecord, ...] = ()
    error: Mapping[str, str] | None = None
    model: str | None = None
    tags: tuple[str, ...] = ()
    critical: bool = False
    input: Any = None
    expected: Any = None
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    usage: Mapping[str, int] = field(default_factory=lambda: dict(ZERO_USAGE))
    cost_usd: str | None = None
    cost_equiv_usd: str | None = None
    judge_usage: Mapping[str, int] = field(default_factory=dict)
    judge_cost_usd: str | None = None
    latency_ms: float = 0.0
    retries: int = 0
    attempts: tuple[Mapping[str, Any], ...] = ()
    from_cache: bool = False
    finish_reason: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        """``(case_id, epoch)``: the identity of a record within one run."""
        return (self.case_id, self.epoch)

    @property
    def errored(self) -> bool:
        """Whether the harness could not produce a grade (vendor error, timeout, grader bug)."""
        return self.error is not None

    def cost(self, *, equivalent: bool = True) -> Decimal:
        """The generation cost in USD (``equivalent``: as if uncached); 0 when unpriced."""
        value = self.cost_equiv_usd if equivalent else self.cost_usd
        return Decimal(value) if value is not None else Decimal(0)

    def judge_cost(self) -> Decimal:
        """What the LLM judges spent on this record, in USD."""
        return Decimal(self.judge_cost_usd) if self.judge_cost_usd is not None else Decimal(0)

    def to_dict(self) -> dict[str, Any]:
        """The stored JSON form."""
        out = asdict(self)
        out["grades"] = [asdict(g) for g in self.grades]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Record:
        """Rebuild a record from its stored form (unknown keys are ignored)."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["grades"] = tuple(GradeRecord(**g) for g in data.get("grades") or ())
        for key in ("tags", "tool_calls", "attempts"):
            known[key] = tuple(data.get(key) or ())
        return cls(**known)


class ResultsWriter:
    """Appends records to ``results.jsonl``, one flushed (and fsynced) line each."""

    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = path
        self._fsync = fsync
        self._file: IO[str] | None = None
        _repair_tail(path)

    def write(self, record: Record) -> None:
        """Append one record durably enough to survive a crash of this process."""
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        self._file.write(json.dumps(record.to_dict(), ensure_ascii=False, default=str) + "\n")
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def _repair_tail(path: Path) -> None:
    """Cut a torn last line (a crash mid-write) so appended lines stay parseable."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def read_records(path: Path) -> Iterator[Record]:
    """Every complete record in a results file, in file order (torn lines skipped)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                return  # torn by a crash
            if line.strip():
                try:
                    yield Record.from_dict(json.loads(line))
                except (json.JSONDecodeError, TypeError):
                    continue
