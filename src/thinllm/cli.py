"""The ``thinllm`` command: ``demo``, ``audit``, ``costs``, ``cache``, ``eval``.

Each subcommand lives in ``thinllm/_cli/<name>.py`` and exposes
``register(subparsers) -> None``; the parser sets ``func`` to a callable
``(args) -> int`` that returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: Subcommand modules, in ``--help`` order. A module that fails to import because an
#: optional dependency is missing is skipped, with its error shown if it is invoked.
SUBCOMMANDS = ("demo", "audit", "costs", "cache", "eval")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (exposed for docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="thinllm",
        description="Governed LLM calls: run the offline demo, query audit records and costs, "
        "lint prompts for caching, run evals.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"thinllm._cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("thinllm._cli"):
                continue  # not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    code: int = func(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
