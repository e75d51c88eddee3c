"""Retention: delete the oldest events of a SQL store and re-anchor its hash chain.

A purge deletes a *prefix* of the chain (in write order), never rows from the middle,
and records where the remaining chain starts in ``meta``:

* ``anchor_hash``  the hash of the last deleted event (the ``prev_hash`` of the first
  remaining one), which ``verify()`` then starts from;
* ``anchor_count`` how many events all purges so far removed;
* ``purged_before`` the cut-off time of the last purge.

The rows to be deleted are verified first, inside the same write transaction (so no
writer can interleave): a broken chain is refused with
:class:`~thinllm.errors.AuditIntegrityError` and nothing is deleted, because deleting
records would erase the evidence. SQLite's ``secure_delete`` is on while rows go, so
the deleted content is overwritten in the file, not just unlinked.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from thinllm.errors import AuditIntegrityError

from ._types import to_us
from ._verify import verify_chain

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from thinllm._events import CallEvent
    from thinllm.sinks._sqlschema import Dialect

__all__ = ["PurgeResult", "purge"]


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What :meth:`SQLStore.purge` did.

    ``anchor`` is the hash the remaining chain now starts from: keep it with your
    retention records (and with the last head you anchored externally) so an auditor
    can check that only the events before ``before`` were removed.
    """

    deleted: int
    remaining: int
    anchor: str | None
    before: datetime

    def describe(self) -> str:
        """One line for humans."""
        when = self.before.isoformat()
        if not self.deleted:
            return f"nothing to purge: no event recorded before {when}"
        return (
            f"purged {self.deleted} events recorded before {when}; {self.remaining} remain; "
            f"the chain now starts after {self.anchor}"
        )


def purge(
    conn: Any,
    dialect: Dialect,
    *,
    before: datetime,
    rows: Callable[[str, Sequence[Any]], Iterator[Sequence[Any]]],
    checked: Callable[[Iterator[Sequence[Any]]], Iterator[tuple[int, CallEvent, bool]]],
    columns: str,
) -> PurgeResult:
    """Delete the chain prefix recorded before ``before``; see the module docstring."""
    d, p = dialect, dialect.param
    cutoff = to_us(before)
    with _write_transaction(conn, dialect):
        meta = {str(k): str(v) for k, v in rows(f"SELECT key, value FROM {d.meta}", ())}
        anchor = meta.get("anchor_hash") or None
        count = int(meta.get("count", "0"))
        # The first event (in chain order) recorded at or after the cut-off, and every
        # event after it, stay, even if a later one carries an earlier time (clock skew).
        sql = f"SELECT MIN(seq) FROM {d.events} WHERE ts_us >= {p}"
        (first_kept,) = _only(rows(sql, (cutoff,)))
        where, params = ("", ()) if first_kept is None else (f" WHERE seq < {p}", (first_kept,))
        doomed = rows(f"SELECT {columns} FROM {d.events}{where} ORDER BY seq", params)
        result = verify_chain(checked(doomed), start=anchor)
        if not result.ok:
            raise AuditIntegrityError(
                f"the audit chain is broken ({result.describe()}); nothing was purged. "
                "Investigate with `thinllm audit verify` before deleting records."
            )
        deleted = result.checked
        if not deleted:
            return PurgeResult(0, count, anchor, before)
        if d.name == "sqlite":
            conn.execute("PRAGMA secure_delete = ON")
        _run(conn, f"DELETE FROM {d.events}{where}", params)
        purged = int(meta.get("anchor_count", "0")) + deleted
        upsert = (
            f"INSERT INTO {d.meta} (key, value) VALUES ({p}, {p}) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        for key, value in (
            ("anchor_hash", result.head or ""),
            ("anchor_count", str(purged)),
            ("purged_before", before.astimezone(UTC).isoformat()),
            ("count", str(count - deleted)),
        ):
            _run(conn, upsert, (key, value))
    if d.name == "sqlite":
        # Move the overwritten pages out of the WAL into the file and shrink the WAL.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return PurgeResult(deleted, count - deleted, result.head, before)


def _only(found: Iterator[Sequence[Any]]) -> Sequence[Any]:
    """The single row of a one-row query (read to the end so its cursor closes)."""
    (row,) = list(found)
    return row


def _run(conn: Any, sql: str, params: Sequence[Any]) -> None:
    cursor = conn.cursor()
    try:
        cursor.execute(sql, params)
    finally:
        cursor.close()


@contextmanager
def _write_transaction(conn: Any, dialect: Dialect) -> Iterator[None]:
    """A transaction holding the store's write lock, as the sinks take it."""
    if dialect.name == "sqlite":
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return
    with conn.transaction():
        # The sinks lock the head row before extending the chain; so does a purge.
        _run(conn, f"SELECT value FROM {dialect.meta} WHERE key = 'head_hash' FOR UPDATE", ())
        yield
