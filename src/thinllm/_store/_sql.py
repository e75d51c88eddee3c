"""Queries over the SQL audit stores (SQLite and PostgreSQL share this code).

The two backends differ only in their connection, placeholder style and how an exact
decimal sum of ``cost_usd`` is written; :class:`SQLStore` takes those as arguments.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from thinllm.errors import ConfigurationError
from thinllm.sinks._rows import COLUMNS, DERIVED, derived_values, row_to_event

from ._purge import PurgeResult, purge
from ._types import GROUP_KEYS, VerifyResult, check_group_keys, parse_time, to_us
from ._verify import verify_chain

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from thinllm._events import CallEvent
    from thinllm.sinks._sqlschema import Dialect

__all__ = ["SQLStore"]

_FILTERS = {
    "user": "tag_user",
    "workflow": "tag_workflow",
    "cost_center": "tag_cost_center",
    "outcome": "outcome",
    "model": "model",
}
_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


class SQLStore:
    """Read-side of a SQL audit store: filtered events, cost roll-ups, chain verification."""

    def __init__(self, conn: Any, dialect: Dialect, *, cost_sum: str, where: str) -> None:
        self._conn = conn
        self._d = dialect
        self._cost_sum = cost_sum  # SQL aggregate over cost_usd giving an exact decimal
        self.where = where

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.where}>"

    # -- queries ---------------------------------------------------------------------

    def events(
        self,
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        user: str | None = None,
        workflow: str | None = None,
        cost_center: str | None = None,
        outcome: str | None = None,
        model: str | None = None,
        limit: int | None = None,
    ) -> list[CallEvent]:
        """Events matching every given filter, oldest first.

        ``since``/``until``: ISO 8601 or a duration ago (``7d``); ``until`` is exclusive.
        ``limit``: the *most recent* ``limit`` matches (still returned oldest first).
        """
        return list(
            self.iter_events(
                since=since,
                until=until,
                user=user,
                workflow=workflow,
                cost_center=cost_center,
                outcome=outcome,
                model=model,
                limit=limit,
            )
        )

    def iter_events(self, *, limit: int | None = None, **filters: Any) -> Iterator[CallEvent]:
        """Like :meth:`events`, streaming (for exports of large stores)."""
        where, params = self._where(filters)
        cols = ", ".join(COLUMNS)
        sql = f"SELECT {cols} FROM {self._d.events}{where} ORDER BY ts_us, seq"
        if limit is not None:
            sql = (
                f"SELECT {cols} FROM (SELECT seq, {cols} FROM {self._d.events}{where} "
                f"ORDER BY ts_us DESC, seq DESC LIMIT {int(limit)}) AS recent ORDER BY ts_us, seq"
            )
        for row in self._execute(sql, params):
            yield row_to_event(row)

    def costs(
        self,
        by: Sequence[str] | str = ("cost_center",),
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        **filters: str | None,
    ) -> list[dict[str, Any]]:
        """Spend and tokens per group, one dict per group, sorted by the group keys.

        Each dict has the group keys (``None`` for untagged calls), ``calls``, the four
        token counts, ``cache_hit_ratio`` (cache reads / input tokens), ``cost_usd``
        (exact ``Decimal``; unpriced calls add nothing), ``unpriced_calls`` and
        ``distinct_prompts`` (distinct ``prompt_hash`` values).
        """
        keys = check_group_keys(by)
        where, params = self._where({"since": since, "until": until, **filters})
        group_cols = [GROUP_KEYS[k] for k in keys]
        select = [
            *group_cols,
            "COUNT(*)",
            *(f"COALESCE(SUM({t}), 0)" for t in _TOKENS),
            self._cost_sum,
            "COUNT(cost_usd)",
            "COUNT(DISTINCT prompt_hash)",
        ]
        sql = f"SELECT {', '.join(select)} FROM {self._d.events}{where}"
        if group_cols:
            listed = ", ".join(group_cols)
            sql += f" GROUP BY {listed} ORDER BY {listed}"
        out: list[dict[str, Any]] = []
        for row in self._execute(sql, params):
            n = len(keys)
            calls, inp, outp, cread, cwrite, cost, priced, prompts = row[n:]
            if not calls:
                continue  # an empty store still yields one all-NULL totals row
            entry: dict[str, Any] = dict(zip(keys, row[:n], strict=True))
            entry.update(
                calls=int(calls),
                input_tokens=int(inp),
                output_tokens=int(outp),
                cache_read_tokens=int(cread),
                cache_write_tokens=int(cwrite),
                cache_hit_ratio=round(int(cread) / int(inp), 4) if inp else 0.0,
                cost_usd=Decimal(cost) if cost is not None else Decimal(0),
                unpriced_calls=int(calls) - int(priced),
                distinct_prompts=int(prompts),
            )
            out.append(entry)
        return out

    def spent(self, tag: str, value: str, since: datetime) -> Decimal:
        """Total ``cost_usd`` of calls tagged ``tag=value`` since ``since`` (for budgets).

        The three standard tags use their indexed columns; other tags are matched in the
        stored ``tags`` JSON (a scan, fine at budget-refresh frequency).
        """
        if tag in ("user", "workflow", "cost_center"):
            rows = self.costs(by=(), since=since, **{tag: value})
            return rows[0]["cost_usd"] if rows else Decimal(0)
        total = Decimal(0)
        for event in self.iter_events(since=since):
            if event.tags.get(tag) == value and event.cost_usd is not None:
                total += Decimal(event.cost_usd)
        return total

    def verify(self) -> VerifyResult:
        """Walk the whole hash chain; report the first altered, inserted or deleted event."""
        meta: dict[str, str] = {
            str(k): str(v) for k, v in self._execute(f"SELECT key, value FROM {self._d.meta}", ())
        }
        head = meta.get("head_hash")
        count = meta.get("count")
        cols = ", ".join(("seq", *COLUMNS))
        rows = self._execute(f"SELECT {cols} FROM {self._d.events} ORDER BY seq", ())
        return verify_chain(
            self._checked(rows),
            head=head,
            count=int(count) if count is not None else None,
            start=meta.get("anchor_hash") or None,
        )

    def purge(self, before: str | datetime) -> PurgeResult:
        """Delete the events recorded before ``before`` and re-anchor the hash chain.

        For retention policies: ``store.purge("180d")`` or ``store.purge("2026-05-01")``.
        The oldest events go (a prefix of the chain, in write order), after checking
        that they are intact; ``verify()`` afterwards checks the rest from the recorded
        anchor. Raises :class:`~thinllm.errors.AuditIntegrityError`, deleting nothing,
        when the chain to be deleted is broken. Safe while sinks are writing.
        """
        cutoff = parse_time(before)
        if cutoff is None:
            raise ConfigurationError("purge(before=...) needs a time, e.g. '180d' or '2026-05-01'")
        return purge(
            self._conn,
            self._d,
            before=cutoff,
            rows=self._execute,
            checked=self._checked,
            columns=", ".join(("seq", *COLUMNS)),
        )

    def to_pandas(self, **filters: Any) -> Any:
        """The filtered events as a ``pandas.DataFrame`` (one row each; needs pandas)."""
        try:
            import pandas as pd  # type: ignore[import-untyped,unused-ignore]
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "to_pandas() needs pandas: pip install pandas (or use .events())"
            ) from exc
        return pd.DataFrame([_flat(e) for e in self.iter_events(**filters)])

    # -- helpers ---------------------------------------------------------------------

    def _checked(self, rows: Iterator[Sequence[Any]]) -> Iterator[tuple[int, CallEvent, bool]]:
        n_derived = len(DERIVED)
        for row in rows:
            event = row_to_event(row[1:])
            stored = tuple(row[-n_derived:])
            yield int(row[0]), event, stored == derived_values(event)

    def _where(self, filters: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        clauses: list[str] = []
        params: list[Any] = []
        p = self._d.param
        since = to_us(parse_time(filters.pop("since", None)))
        until = to_us(parse_time(filters.pop("until", None)))
        if since is not None:
            clauses.append(f"ts_us >= {p}")
            params.append(since)
        if until is not None:
            clauses.append(f"ts_us < {p}")
            params.append(until)
        for name, value in filters.items():
            if name not in _FILTERS:
                raise TypeError(f"unknown filter {name!r}; use one of {', '.join(_FILTERS)}")
            if value is not None:
                clauses.append(f"{_FILTERS[name]} = {p}")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    def _execute(self, sql: str, params: Sequence[Any]) -> Iterator[Sequence[Any]]:
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(1000):
                yield from batch
        finally:
            cursor.close()


def _flat(event: CallEvent) -> dict[str, Any]:
    data = event.to_dict()
    flat: dict[str, Any] = {k: v for k, v in data.items() if k not in ("tags", "usage")}
    for key, value in (data.get("tags") or {}).items():
        flat[f"tag_{key}"] = value
    flat.update(data.get("usage") or {})
    flat["cost_usd"] = Decimal(event.cost_usd) if event.cost_usd is not None else None
    return flat
