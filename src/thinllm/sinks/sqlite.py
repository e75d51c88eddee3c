"""The embedded default audit store: one SQLite file, hash-chained, durable on return."""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import TYPE_CHECKING, Any

from thinllm.errors import ConfigurationError

from ._groupcommit import GroupCommit
from ._rows import SCHEMA_VERSION, Prepared, insert_one_by_one, link_all
from ._sqlschema import SQLITE, check_version

if TYPE_CHECKING:
    from collections.abc import Sequence

    from thinllm._events import CallEvent

__all__ = ["SQLiteSink", "connect_sqlite"]

_D = SQLITE


def connect_sqlite(path: str, *, durable: bool = True, timeout: float = 30.0) -> sqlite3.Connection:
    """Open (creating or migrating) a thinllm audit database; autocommit mode.

    Raises :class:`~thinllm.errors.ConfigurationError` for a file that is not a
    thinllm store, or was written by a newer thinllm.
    """
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsynced at every commit, so a committed event survives power
        # loss. NORMAL still survives a killed process (the WAL write has happened).
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        _prepare(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ConfigurationError(f"cannot open the audit store {path!r}: {exc}") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and _D.meta not in tables:
            raise ConfigurationError(
                f"{path!r} is a SQLite database but not a thinllm audit store "
                f"(it has tables {sorted(tables)} and no {_D.meta!r} table)"
            )
        if _D.meta in tables:
            row = conn.execute(f"SELECT value FROM {_D.meta} WHERE key='schema_version'").fetchone()
            if row is None:
                raise ConfigurationError(f"{path!r} has no schema_version: not a thinllm store")
            migrations = check_version(int(row[0]), repr(path))
            for statement in migrations:
                conn.execute(statement)
            if migrations:
                conn.execute(
                    f"UPDATE {_D.meta} SET value=? WHERE key='schema_version'",
                    (str(SCHEMA_VERSION),),
                )
        for statement in _D.create_statements():
            conn.execute(statement)
        for sql, params in _D.seed_statements():
            conn.execute(sql, params)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class SQLiteSink:
    """Writes every event to a SQLite file, hash-chained; returns once it is committed.

    Safe for many threads and many processes on one file: each commit takes SQLite's
    write lock (``BEGIN IMMEDIATE``), reads the chain head, and extends it, so the chain
    stays linear. Concurrent callers in one process share a commit (group commit), so a
    busy server pays one fsync per batch rather than per event, and each caller still
    returns only once its own event is on disk.

    ``durable=True`` (the default) fsyncs at every commit (``synchronous=FULL``): a
    returned event survives power loss. ``durable=False`` survives a crashed or killed
    process but not an operating-system crash, and is several times faster for a
    single writing thread. Re-writing an event with an already stored ``call_id`` is a
    no-op, so re-delivery after an outage never duplicates a record.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, durable: bool = True, timeout: float = 30.0
    ) -> None:
        self.path = os.fspath(path)
        self.durable = durable
        self._timeout = timeout
        self._open_lock = threading.Lock()
        self._closed = False
        self._conn: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self._group = GroupCommit(self._write_batch)
        self._insert = _D.insert_sql()
        self._conn = connect_sqlite(self.path, durable=durable, timeout=timeout)

    @property
    def spool_key(self) -> str:
        """Identity used by :class:`~thinllm.sinks.Delivery` to name this sink's spool."""
        return "sqlite:" + os.path.abspath(self.path)

    def __call__(self, event: CallEvent, /) -> None:
        """Store ``event``; return once it is committed (raises if it could not be)."""
        self._group_for_process().submit(Prepared(event))

    def write_many(self, events: Sequence[CallEvent]) -> None:
        """Store ``events`` in one transaction (used by :class:`BufferedSink`)."""
        if not events:
            return
        self._group_for_process().submit_many([Prepared(event) for event in events])

    async def awrite(self, event: CallEvent, /) -> None:
        """Store ``event`` from a coroutine; return once it is committed.

        The commit happens on a background thread shared by all concurrent coroutines
        (one transaction and one fsync per batch), so the event loop never waits on the
        disk. ``Client.acomplete`` and the other async paths use this.
        """
        await self._group_for_process().asubmit_many((Prepared(event),))

    def spent(self, tag: str, value: str, since: Any) -> Any:
        """Spend recorded in this store for ``tag=value`` since ``since`` (budgets use it)."""
        from thinllm._store import open_store

        with open_store(self.path) as store:
            return store.spent(tag, value, since)

    def close(self) -> None:
        """Close the database connection. Later writes raise."""
        self._group.close()
        with self._open_lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SQLiteSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<SQLiteSink {self.path!r} durable={self.durable}>"

    def _group_for_process(self) -> GroupCommit:
        if self._pid != os.getpid():
            # Forked child: the parent's connection and locks must not be used here.
            with self._open_lock:
                if self._pid != os.getpid():
                    self._conn = None
                    self._group = GroupCommit(self._write_batch)
                    self._pid = os.getpid()
        return self._group

    def _connection(self) -> sqlite3.Connection:
        with self._open_lock:
            if self._closed:
                raise RuntimeError(f"SQLiteSink({self.path!r}) is closed")
            if self._conn is None:
                self._conn = connect_sqlite(self.path, durable=self.durable, timeout=self._timeout)
            return self._conn

    def _write_batch(self, prepared: list[Prepared]) -> None:
        conn = self._connection()
        insert = self._insert
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                head, count = _read_head(conn)
                head, count = _insert_chained(conn, insert, prepared, head, count)
                conn.executemany(
                    f"UPDATE {_D.meta} SET value=? WHERE key=?",
                    ((head, "head_hash"), (str(count), "count")),
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error:
            # A broken connection is reopened on the next write.
            with self._open_lock:
                if self._conn is conn:
                    self._conn = None
                    conn.close()
            raise


def _insert_chained(
    conn: sqlite3.Connection, insert: str, prepared: list[Prepared], head: str, count: int
) -> tuple[str, int]:
    """Insert ``prepared`` after chain head ``head``; the new head and count.

    The whole batch goes in one ``executemany`` (one call into C, no Python per row).
    If some ``call_id`` was already stored (a re-delivery after an outage), that row is
    skipped by the INSERT, so the rows after it would link to the wrong predecessor:
    then the batch is undone to a savepoint and inserted row by row instead.
    """
    rows, link_head = link_all(prepared, head)
    conn.execute("SAVEPOINT batch")
    if conn.executemany(insert, rows).rowcount == len(rows):
        conn.execute("RELEASE batch")
        return link_head or "", count + len(rows)
    conn.execute("ROLLBACK TO batch")
    conn.execute("RELEASE batch")
    return insert_one_by_one(lambda row: conn.execute(insert, row).rowcount, prepared, head, count)


def _read_head(conn: sqlite3.Connection) -> tuple[str, int]:
    values = dict(
        conn.execute(f"SELECT key, value FROM {_D.meta} WHERE key IN ('head_hash', 'count')")
    )
    return values.get("head_hash", ""), int(values.get("count", "0"))
