"""Table layout of the SQL audit stores (SQLite and PostgreSQL), and its version check.

Two tables: ``events`` (one row per call, in chain order by ``seq``) and ``meta``
(``schema_version``, and the chain head: ``head_hash`` and ``count``). Keeping the
head in ``meta`` lets ``verify()`` notice rows deleted from the end of the chain, and
gives PostgreSQL a row to lock so that concurrent writers extend the chain one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from thinllm.errors import ConfigurationError

from ._rows import COLUMNS, JSON_COLUMNS, SCHEMA_VERSION

__all__ = ["POSTGRES", "SQLITE", "Dialect", "check_version"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the SQL backends: names, placeholders and column types."""

    name: str
    events: str
    meta: str
    param: str
    seq_type: str
    real: str
    bigint: str
    boolean: str
    json: str

    def create_statements(self) -> list[str]:
        """DDL creating the tables and indexes (idempotent)."""
        types = {
            "latency_ms": self.real,
            "stream": self.boolean,
            "batch": self.boolean,
            "ts_us": self.bigint,
            "input_tokens": self.bigint,
            "output_tokens": self.bigint,
            "cache_read_tokens": self.bigint,
            "cache_write_tokens": self.bigint,
        }
        not_null = {"call_id", "ts", "outcome", "operation", "hash", "tags", "attempts", "usage"}
        cols = [f"seq {self.seq_type}"]
        for name in COLUMNS:
            sql_type = types.get(name, self.json if name in JSON_COLUMNS else "TEXT")
            extra = " NOT NULL" if name in not_null else ""
            if name == "call_id":
                extra += " UNIQUE"
            cols.append(f"{name} {sql_type}{extra}")
        ev = self.events
        return [
            f"CREATE TABLE IF NOT EXISTS {self.meta} (key TEXT PRIMARY KEY, value TEXT)",
            f"CREATE TABLE IF NOT EXISTS {ev} (\n  " + ",\n  ".join(cols) + "\n)",
            f"CREATE INDEX IF NOT EXISTS {ev}_ts ON {ev} (ts_us)",
            f"CREATE INDEX IF NOT EXISTS {ev}_cost_center ON {ev} (tag_cost_center, ts_us)",
            f"CREATE INDEX IF NOT EXISTS {ev}_user ON {ev} (tag_user, ts_us)",
            f"CREATE INDEX IF NOT EXISTS {ev}_workflow ON {ev} (tag_workflow, ts_us)",
        ]

    def seed_statements(self) -> list[tuple[str, tuple[str, str]]]:
        """Rows ``meta`` starts with (inserted only when absent)."""
        sql = (
            f"INSERT INTO {self.meta} (key, value) VALUES ({self.param}, {self.param}) "
            "ON CONFLICT (key) DO NOTHING"
        )
        return [
            (sql, ("schema_version", str(SCHEMA_VERSION))),
            (sql, ("head_hash", "")),
            (sql, ("count", "0")),
        ]

    def insert_sql(self) -> str:
        """INSERT of one event row; a duplicate ``call_id`` is silently skipped."""
        names = ", ".join(COLUMNS)
        marks = ", ".join([self.param] * len(COLUMNS))
        return (
            f"INSERT INTO {self.events} ({names}) VALUES ({marks}) ON CONFLICT (call_id) DO NOTHING"
        )


SQLITE = Dialect(
    name="sqlite",
    events="events",
    meta="meta",
    param="?",
    seq_type="INTEGER PRIMARY KEY",
    real="REAL",
    bigint="INTEGER",
    boolean="INTEGER NOT NULL",
    json="TEXT",
)

#: Table names are prefixed in PostgreSQL because the database is usually shared.
#: JSON (not JSONB) keeps the text exactly as written, which the hash chain needs.
POSTGRES = Dialect(
    name="postgresql",
    events="thinllm_events",
    meta="thinllm_meta",
    param="%s",
    seq_type="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    real="DOUBLE PRECISION",
    bigint="BIGINT",
    boolean="BOOLEAN NOT NULL",
    json="JSON",
)

#: ``MIGRATIONS[n]`` upgrades a store from layout version ``n`` to ``n + 1``.
#: Empty: version 1 is the first released layout.
MIGRATIONS: dict[int, list[str]] = {}


def check_version(found: int, where: str) -> list[str]:
    """Statements migrating a store at layout ``found`` to the current one.

    Raises :class:`~thinllm.errors.ConfigurationError` when the store is newer than
    this thinllm, or older than any layout it knows how to migrate.
    """
    if found == SCHEMA_VERSION:
        return []
    if found > SCHEMA_VERSION:
        raise ConfigurationError(
            f"the audit store {where} has layout version {found}, written by a newer thinllm; "
            f"this thinllm reads up to version {SCHEMA_VERSION}. Upgrade thinllm to use it."
        )
    statements: list[str] = []
    for version in range(found, SCHEMA_VERSION):
        if version not in MIGRATIONS:
            raise ConfigurationError(
                f"the audit store {where} has layout version {found}, which this thinllm "
                "cannot migrate. Export it with the thinllm version that wrote it."
            )
        statements.extend(MIGRATIONS[version])
    return statements
