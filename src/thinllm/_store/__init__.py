"""Query layer over the audit stores: the same questions of SQLite and PostgreSQL.

``thinllm.sinks.open_store(path_or_url)`` is the entry point (also used by the
``thinllm audit`` and ``thinllm costs`` commands)::

    store = thinllm.sinks.open_store("thinllm.db")        # or "postgresql://..."
    store.events(since="7d", cost_center="cs-eu")          # CallEvent list, oldest first
    store.costs(by=("cost_center", "model"), since="30d")  # list of dicts
    store.verify()                                          # VerifyResult (ok, first_bad)
    store.to_pandas(since="7d")                             # needs pandas
    store.purge("180d")                                     # retention: PurgeResult
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

from thinllm.errors import ConfigurationError

from ._purge import PurgeResult
from ._sql import SQLStore
from ._types import BadEvent, VerifyResult

__all__ = [
    "BadEvent",
    "PurgeResult",
    "SQLStore",
    "VerifyResult",
    "is_postgres_url",
    "open_store",
]


def is_postgres_url(target: str) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a SQLite file."""
    return target.startswith(("postgresql://", "postgres://"))


def open_store(target: str | os.PathLike[str]) -> SQLStore:
    """Open an audit store for queries: a SQLite path (or ``sqlite:///path``) or a
    ``postgresql://`` URL. Close it (or use ``with``) when done.

    Raises :class:`~thinllm.errors.ConfigurationError` when there is no store there.
    """
    where = os.fspath(target)
    if is_postgres_url(where):
        from thinllm.sinks._sqlschema import POSTGRES
        from thinllm.sinks.postgres import connect_postgres

        conn = connect_postgres(where)
        return SQLStore(conn, POSTGRES, cost_sum="SUM(cost_usd::numeric)", where="PostgreSQL")
    if where.startswith("sqlite:///"):
        where = where[len("sqlite:///") :]
    if not os.path.exists(where):
        raise ConfigurationError(f"no audit store at {where!r} (no such file)")
    from thinllm.sinks._sqlschema import SQLITE
    from thinllm.sinks.sqlite import connect_sqlite

    conn_sqlite = connect_sqlite(where)
    conn_sqlite.create_aggregate("thinllm_decimal_sum", 1, _DecimalSum)  # type: ignore[arg-type]
    return SQLStore(
        conn_sqlite, SQLITE, cost_sum="thinllm_decimal_sum(cost_usd)", where=repr(where)
    )


class _DecimalSum:
    """SQLite aggregate: exact decimal sum of text amounts (NULL when none)."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: Any) -> None:
        if value is not None:
            self.total = (self.total or Decimal(0)) + Decimal(str(value))

    def finalize(self) -> str | None:
        return None if self.total is None else str(self.total)
