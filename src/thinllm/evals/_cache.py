"""The on-disk generation and grade caches (one SQLite file).

Generations are keyed by (resolved model, parameters, the exact rendered request,
epoch): the epoch is in the key so repeats are independent samples, not copies of
the first. Grades are keyed by (grader name, version and configuration, output,
expected), so re-grading unchanged outputs is free and an unchanged output is never
re-judged with fresh judge noise. Errors are never cached.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cases import sha256

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["EvalCache", "generation_key", "grade_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS grades (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def generation_key(model: str, params: Any, request: Any, epoch: int) -> str:
    """The cache key of one generation."""
    return sha256({"model": model, "params": params, "request": request, "epoch": epoch})


def grade_key(grader_key: str, output: Any, expected: Any) -> str:
    """The cache key of one grade."""
    return sha256({"grader": grader_key, "output": output, "expected": expected})


class EvalCache:
    """A SQLite-backed cache. ``read=False`` ignores stored entries (``--no-cache``) but
    still stores fresh ones, so the next run can reuse them."""

    def __init__(self, path: str | Path, *, read: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.read = read
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """A stored entry, or ``None`` (always ``None`` when reading is off)."""
        if not self.read:
            return None
        with self._lock:
            row = self._db.execute(f"SELECT value FROM {_table(table)} WHERE key = ?", (key,))
            found = row.fetchone()
        if found is None:
            return None
        value: dict[str, Any] = json.loads(found[0])
        return value

    def put(self, table: str, key: str, value: dict[str, Any]) -> None:
        """Store an entry (replacing an older one)."""
        text = json.dumps(value, ensure_ascii=False, default=str)
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO {_table(table)} (key, value) VALUES (?, ?)", (key, text)
            )

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> EvalCache:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _table(name: str) -> str:
    if name not in ("generations", "grades"):
        raise ValueError(f"unknown cache table {name!r}")
    return name
