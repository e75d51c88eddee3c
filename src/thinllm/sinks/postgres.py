"""Audit store shared by a fleet of processes: PostgreSQL via psycopg 3 (extra ``postgres``)."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

from thinllm.errors import ConfigurationError

from ._groupcommit import GroupCommit
from ._rows import SCHEMA_VERSION, Prepared, insert_one_by_one, link_all
from ._sqlschema import POSTGRES, check_version

if TYPE_CHECKING:
    from collections.abc import Sequence

    from thinllm._events import CallEvent

__all__ = ["PostgresSink", "connect_postgres", "safe_dsn"]

_D = POSTGRES
#: pg_advisory_xact_lock key serialising schema creation across processes ("thinllm").
_SCHEMA_LOCK = 0x7468696E6C6C6D


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise ImportError("PostgresSink needs psycopg 3: pip install 'thinllm[postgres]'") from exc
    return psycopg


def safe_dsn(dsn: str) -> str:
    """``dsn`` without its password, for messages and reprs."""
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return "<dsn>"
    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # an unparsable DSN is not echoed back: it may hold a secret
        return "<dsn>"
    host = parts.get("host", "")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{parts.get('user', '')}@{host}{port}/{parts.get('dbname', '')}"


def connect_postgres(dsn: str) -> Any:
    """Open an autocommit psycopg connection to an audit store (creating or migrating it)."""
    psycopg = _psycopg()
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.Error as exc:
        # psycopg's message names host and user, never the password.
        raise ConfigurationError(f"cannot connect to {safe_dsn(dsn)}: {exc}") from exc
    try:
        _prepare(conn, safe_dsn(dsn))
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: Any, where: str) -> None:
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        found = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (_D.meta,)).fetchone()[0]
        if found:
            row = conn.execute(
                f"SELECT value FROM {_D.meta} WHERE key = 'schema_version'"
            ).fetchone()
            if row is None:
                raise ConfigurationError(f"{_D.meta} in {where} has no schema_version")
            migrations = check_version(int(row[0]), where)
            for statement in migrations:
                conn.execute(statement)
            if migrations:
                conn.execute(
                    f"UPDATE {_D.meta} SET value = %s WHERE key = 'schema_version'",
                    (str(SCHEMA_VERSION),),
                )
        for statement in _D.create_statements():
            conn.execute(statement)
        for sql, params in _D.seed_statements():
            conn.execute(sql, params)


class PostgresSink:
    """Writes every event to PostgreSQL (tables ``thinllm_events``, ``thinllm_meta``).

    Any number of processes may share one database: each commit locks the chain head
    (``SELECT ... FOR UPDATE`` on the ``head_hash`` row of ``thinllm_meta``), so the
    chain stays linear. Concurrent callers in one process share a commit (group
    commit); each returns once its event is committed. The connection is opened on
    first use and re-opened after a failure, so an unreachable server at start-up
    only makes writes fail (and :class:`Delivery` spool them). Duplicate ``call_id``
    writes are no-ops. Durability is the server's (``synchronous_commit``).
    """

    def __init__(self, dsn: str) -> None:
        _psycopg()  # fail now, clearly, when the extra is not installed
        self._dsn = dsn
        self._where = safe_dsn(dsn)
        self._lock = threading.Lock()
        self._conn: Any = None
        self._closed = False
        self._pid = os.getpid()
        self._group = GroupCommit(self._write_batch)
        self._insert = _D.insert_sql()

    @property
    def spool_key(self) -> str:
        """Identity used by :class:`~thinllm.sinks.Delivery` to name this sink's spool."""
        return "postgres:" + self._where

    def __call__(self, event: CallEvent, /) -> None:
        """Store ``event``; return once it is committed (raises if it could not be)."""
        self._group_for_process().submit(Prepared(event))

    def write_many(self, events: Sequence[CallEvent]) -> None:
        """Store ``events`` in one transaction (used by :class:`BufferedSink`)."""
        if events:
            self._group_for_process().submit_many([Prepared(e) for e in events])

    async def awrite(self, event: CallEvent, /) -> None:
        """Store ``event`` from a coroutine; return once it is committed.

        Concurrent coroutines share one background thread and one transaction per
        batch, so the event loop never waits on the database.
        """
        await self._group_for_process().asubmit_many((Prepared(event),))

    def spent(self, tag: str, value: str, since: Any) -> Any:
        """Spend recorded in this store for ``tag=value`` since ``since`` (budgets use it)."""
        from thinllm._store import open_store

        with open_store(self._dsn) as store:
            return store.spent(tag, value, since)

    def close(self) -> None:
        """Close the connection. Later writes raise."""
        self._group.close()
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> PostgresSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<PostgresSink {self._where}>"

    def _group_for_process(self) -> GroupCommit:
        if self._pid != os.getpid():
            with self._lock:  # forked: never share the parent's connection
                if self._pid != os.getpid():
                    self._conn = None
                    self._group = GroupCommit(self._write_batch)
                    self._pid = os.getpid()
        return self._group

    def _connection(self) -> Any:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"PostgresSink({self._where}) is closed")
            if self._conn is None or self._conn.closed:
                self._conn = connect_postgres(self._dsn)
            return self._conn

    def _insert_chained(
        self, conn: Any, cur: Any, prepared: list[Prepared], head: str | None, count: int
    ) -> tuple[str | None, int]:
        """Insert ``prepared`` after chain head ``head``; the new head and count.

        The batch goes in one ``executemany`` (psycopg pipelines it: one round trip to
        the server instead of one per row). If some ``call_id`` was already stored (a
        re-delivery after an outage) the INSERT skips that row, so the rows after it
        would link to the wrong predecessor: then the batch is undone to a savepoint
        and inserted row by row instead.
        """
        rows, link_head = link_all(prepared, head)
        try:
            with conn.transaction():  # a savepoint inside the batch's transaction
                cur.executemany(self._insert, rows)
                if cur.rowcount != len(rows):
                    raise _Redelivered
            return link_head, count + len(rows)
        except _Redelivered:
            pass

        def insert(row: tuple[Any, ...]) -> int:
            cur.execute(self._insert, row)
            return int(cur.rowcount)

        return insert_one_by_one(insert, prepared, head or "", count)

    def _write_batch(self, prepared: list[Prepared]) -> None:
        conn = self._connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(f"SELECT value FROM {_D.meta} WHERE key = 'head_hash' FOR UPDATE")
                head = cur.fetchone()[0]
                cur.execute(f"SELECT value FROM {_D.meta} WHERE key = 'count'")
                count = int(cur.fetchone()[0])
                head, count = self._insert_chained(conn, cur, prepared, head, count)
                cur.execute(f"UPDATE {_D.meta} SET value = %s WHERE key = 'head_hash'", (head,))
                cur.execute(f"UPDATE {_D.meta} SET value = %s WHERE key = 'count'", (str(count),))
        except Exception:
            if conn.closed or conn.broken:
                with self._lock:
                    if self._conn is conn:
                        self._conn = None
            raise


class _Redelivered(Exception):
    """A batch held an already stored call_id: roll back to the savepoint, go row by row."""
