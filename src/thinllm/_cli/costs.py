"""``thinllm costs``: spend, tokens and cache-hit ratio per cost center, workflow, model, user."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from thinllm._cli.audit import add_filters, filters_from, open_or_fail
from thinllm._store._types import GROUP_KEYS
from thinllm.errors import ConfigurationError

__all__ = ["register", "render_table"]

_EPILOG = """\
examples:
  thinllm costs --db thinllm.db --by cost_center --since 30d
  thinllm costs --db thinllm.db --by cost_center,workflow,model --json
"""


def register(subparsers: Any) -> None:
    """Add the ``costs`` subcommand."""
    parser = subparsers.add_parser(
        "costs",
        help="spend, tokens and cache-hit ratio per group",
        description="Roll up the stored audit events per group: calls, input/output/cache "
        "tokens, cache-hit ratio, spend in USD and distinct prompt prefixes.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_filters(parser)
    parser.add_argument(
        "--by",
        default="cost_center",
        metavar="KEYS",
        help=f"comma-separated group keys from: {', '.join(GROUP_KEYS)} (default cost_center)",
    )
    parser.add_argument("--json", action="store_true", help="a JSON array of objects")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``thinllm costs``; returns the exit code."""
    store = open_or_fail(args.db, "costs")
    if store is None:
        return 2
    with store:
        try:
            rows = store.costs(args.by, **filters_from(args))
        except ConfigurationError as exc:
            print(f"thinllm costs: error: {exc}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps([{**row, "cost_usd": str(row["cost_usd"])} for row in rows], indent=2))
    else:
        keys = [k.strip() for k in args.by.split(",") if k.strip()]
        sys.stdout.write(render_table(rows, keys))
    return 0


_METRICS = (
    ("calls", "calls"),
    ("input_tokens", "input"),
    ("output_tokens", "output"),
    ("cache_read_tokens", "cache_read"),
    ("cache_write_tokens", "cache_write"),
    ("cache_hit_ratio", "hit_ratio"),
    ("cost_usd", "cost_usd"),
    ("distinct_prompts", "prompts"),
)


def render_table(rows: list[dict[str, Any]], keys: list[str]) -> str:
    """Cost rows as an aligned text table with a total line."""
    header = [*keys, *(label for _, label in _METRICS)]
    body = [
        [_cell(row.get(k)) for k in keys] + [_metric(row, m) for m, _ in _METRICS] for row in rows
    ]
    if rows and keys:
        total = {m: sum(row[m] for row in rows) for m, _ in _METRICS if m != "cache_hit_ratio"}
        inp = total["input_tokens"]
        total["cache_hit_ratio"] = round(total["cache_read_tokens"] / inp, 4) if inp else 0.0
        total["distinct_prompts"] = "-"
        body.append(["total"] + [""] * (len(keys) - 1) + [_metric(total, m) for m, _ in _METRICS])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    numeric = set(range(len(keys), len(header)))
    lines = []
    for r in [header, *body]:
        cells = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _metric(row: dict[str, Any], name: str) -> str:
    value = row[name]
    if name == "cache_hit_ratio":
        return f"{float(value):.1%}"
    if name == "cost_usd":
        return f"{value:.6f}"
    return str(value)
