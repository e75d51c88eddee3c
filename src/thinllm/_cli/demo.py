"""``thinllm demo``: the offline end-to-end demo."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser = sub.add_parser(
        "demo",
        help="run a governed workflow end to end against the built-in fake vendor",
        description="Run a governed support-triage workflow offline (no key, no network) and "
        "print the request, reply, tokens, cache hits, cost, retries, kill switch, PII handling "
        "and where the audit records went.",
    )
    parser.add_argument("--db", default=None, help="SQLite audit store (default ./thinllm-demo.db)")
    parser.add_argument(
        "--real",
        action="store_true",
        help="call the real vendors (needs ANTHROPIC_API_KEY and OPENAI_API_KEY)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .._demo import run_demo

    return run_demo(db=args.db, real=args.real)
