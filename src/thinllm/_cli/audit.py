"""``thinllm audit``: list audit events (filters, ``--json``), ``verify`` the hash chain,
or ``purge`` events older than a retention period."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from thinllm.errors import AuditIntegrityError, ConfigurationError

if TYPE_CHECKING:
    from thinllm._events import CallEvent
    from thinllm._store import SQLStore

__all__ = ["add_filters", "filters_from", "register", "render_table"]

_EPILOG = """\
examples:
  thinllm audit --db thinllm.db --since 7d --cost-center cs-eu
  thinllm audit --db thinllm.db --outcome error --json > errors.jsonl
  thinllm audit verify --db postgresql://audit@db.internal/audit
  thinllm audit purge --db thinllm.db --before 180d
times: ISO 8601 (2026-11-01, 2026-11-01T09:00Z) or a duration ago (30m, 12h, 7d, 2w).
"""


def add_filters(parser: argparse.ArgumentParser) -> None:
    """The ``--db`` and filter options shared by ``audit`` and ``costs``."""
    parser.add_argument(
        "--db", required=True, metavar="PATH|URL", help="SQLite file or postgresql:// URL"
    )
    parser.add_argument("--since", metavar="TIME", help="only calls at or after TIME")
    parser.add_argument("--until", metavar="TIME", help="only calls before TIME")
    parser.add_argument("--user", help="only calls tagged with this user")
    parser.add_argument("--workflow", help="only calls tagged with this workflow")
    parser.add_argument("--cost-center", dest="cost_center", help="only this cost center")
    parser.add_argument("--outcome", help="ok, rerouted, fallback, disabled, blocked or error")
    parser.add_argument("--model", help="only calls answered by (or aimed at) this model")


def filters_from(args: argparse.Namespace) -> dict[str, Any]:
    """The filter keyword arguments for the store, from parsed options."""
    names = ("since", "until", "user", "workflow", "cost_center", "outcome", "model")
    return {name: getattr(args, name) for name in names}


def register(subparsers: Any) -> None:
    """Add the ``audit`` subcommand."""
    parser = subparsers.add_parser(
        "audit",
        help="list audit events, verify their hash chain, or purge old ones",
        description="List the audit events a thinllm sink stored (oldest first), "
        "`verify` the store's hash chain (exit 1 at the first altered, inserted or "
        "deleted event), or `purge` the events recorded before --before (retention; "
        "refused, exit 1, when the chain to delete is broken).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "action",
        nargs="?",
        choices=("list", "verify", "purge"),
        default="list",
        help="list (default), verify or purge",
    )
    add_filters(parser)
    parser.add_argument(
        "--before",
        metavar="TIME",
        help="purge: delete the events recorded before TIME (e.g. 180d or 2026-05-01)",
    )
    parser.add_argument(
        "--limit", type=int, metavar="N", help="only the N most recent matches (still oldest first)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON event per line")
    parser.set_defaults(func=run)


def open_or_fail(target: str, command: str) -> SQLStore | None:
    """Open the store, or print why not (returns None)."""
    from thinllm._store import open_store

    try:
        return open_store(target)
    except (ConfigurationError, ImportError) as exc:
        print(f"thinllm {command}: error: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    """Run ``thinllm audit``; returns the exit code."""
    store = open_or_fail(args.db, "audit")
    if store is None:
        return 2
    with store:
        if args.action == "verify":
            return _verify(store, as_json=args.json)
        if args.action == "purge":
            return _purge(store, args.before, as_json=args.json)
        try:
            events = store.iter_events(limit=args.limit, **filters_from(args))
            if args.json:
                for event in events:
                    sys.stdout.write(event.to_json() + "\n")
            else:
                sys.stdout.write(render_table(list(events)))
        except ConfigurationError as exc:
            print(f"thinllm audit: error: {exc}", file=sys.stderr)
            return 2
    return 0


def _purge(store: SQLStore, before: str | None, *, as_json: bool) -> int:
    if not before:
        print("thinllm audit purge: error: --before TIME is required", file=sys.stderr)
        return 2
    try:
        result = store.purge(before)
    except ConfigurationError as exc:
        print(f"thinllm audit purge: error: {exc}", file=sys.stderr)
        return 2
    except AuditIntegrityError as exc:
        print(f"thinllm audit purge: refused: {exc}", file=sys.stderr)
        return 1
    if as_json:
        payload = {
            "deleted": result.deleted,
            "remaining": result.remaining,
            "anchor": result.anchor,
            "before": result.before.isoformat(),
        }
        print(json.dumps(payload))
    else:
        print(result.describe())
    return 0


def _verify(store: SQLStore, *, as_json: bool) -> int:
    result = store.verify()
    if as_json:
        bad = result.first_bad
        payload: dict[str, Any] = {"ok": result.ok, "checked": result.checked, "head": result.head}
        payload["first_bad"] = (
            None
            if bad is None
            else {
                "kind": bad.kind,
                "call_id": bad.call_id,
                "position": bad.position,
                "detail": bad.detail,
            }
        )
        print(json.dumps(payload))
    else:
        print(result.describe())
    return 0 if result.ok else 1


_COLUMNS = (
    ("time", 19),
    ("call_id", 12),
    ("outcome", 8),
    ("user", 16),
    ("workflow", 16),
    ("cost_center", 11),
    ("model", 20),
    ("in", 7),
    ("out", 6),
    ("cached", 7),
    ("cost_usd", 10),
    ("ms", 7),
)


def render_table(events: list[CallEvent]) -> str:
    """Events as an aligned text table (one line each, with a header)."""
    rows = [[name for name, _ in _COLUMNS]]
    for e in events:
        tags, usage = e.tags or {}, e.usage or {}
        rows.append(
            [
                e.ts[:19].replace("T", " "),
                e.call_id[:12],
                e.outcome,
                tags.get("user") or "-",
                tags.get("workflow") or "-",
                tags.get("cost_center") or "-",
                e.model or "-",
                str(usage.get("input_tokens", 0)),
                str(usage.get("output_tokens", 0)),
                str(usage.get("cache_read_tokens", 0)),
                e.cost_usd if e.cost_usd is not None else "-",
                f"{e.latency_ms:.0f}",
            ]
        )
    return "".join(_line(row) for row in rows) + f"({len(events)} events)\n"


def _line(cells: list[str]) -> str:
    out = []
    for (_, width), cell in zip(_COLUMNS, cells, strict=True):
        text = cell if len(cell) <= width else cell[: width - 1] + "…"
        out.append(text.ljust(width))
    return "  ".join(out).rstrip() + "\n"
