"""``thinllm cache lint FILE.py[:NAME]``: lint a prompt for prompt-caching problems."""

from __future__ import annotations

import json
import runpy
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["load_prompt", "register"]


class _LoadError(Exception):
    """The target could not be loaded as a Prompt; the message says why."""


def register(subparsers: Any) -> None:
    """Add ``cache`` (with ``lint``) to the ``thinllm`` command line."""
    cache = subparsers.add_parser(
        "cache", help="prompt-cache diagnostics", description="Prompt-cache diagnostics."
    )
    sub = cache.add_subparsers(dest="cache_command", metavar="COMMAND")
    lint = sub.add_parser(
        "lint",
        help="warn about prompt content that defeats caching",
        description=(
            "Load a thinllm.Prompt from a Python file and warn about static content that "
            "changes per call (dates, ids, names), a static prefix too short to cache, or "
            "more content blocks than cache breakpoints can cover. Exit status: 0 clean, "
            "1 warnings, 2 the prompt could not be loaded."
        ),
    )
    lint.add_argument(
        "target",
        metavar="FILE.py[:NAME]",
        help="a Python file and the name of a Prompt in it (default PROMPT); a function "
        "taking no arguments that returns a Prompt works too",
    )
    lint.add_argument("--model", help="the model the prompt is sent to (sets the minimum length)")
    lint.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODE",
        help="skip a warning code (repeatable), e.g. --ignore email",
    )
    lint.add_argument("--json", action="store_true", help="print the warnings as a JSON array")
    lint.set_defaults(func=_lint)
    cache.set_defaults(func=lambda args: _help(cache))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def load_prompt(target: str) -> tuple[Any, str]:
    """Run ``FILE.py`` and return ``(prompt, label)`` for ``NAME`` (default ``PROMPT``)."""
    from thinllm._prompt import Prompt

    path, sep, name = target.rpartition(":")
    if not sep or not name.isidentifier():
        path, name = target, "PROMPT"  # no name given (or a Windows drive letter)
    file = Path(path)
    if not file.is_file():
        raise _LoadError(f"no such file: {path}")
    try:
        # Not "__main__": the file's `if __name__ == "__main__":` block must not run.
        namespace = runpy.run_path(str(file), run_name="__thinllm_cache_lint__")
    except Exception as exc:
        raise _LoadError(f"{path} failed to run: {type(exc).__name__}: {exc}") from exc
    if name not in namespace:
        raise _LoadError(f"{path} defines no {name!r}; name the prompt with {path}:NAME")
    obj = namespace[name]
    if not isinstance(obj, Prompt) and callable(obj):
        try:
            obj = obj()
        except Exception as exc:
            raise _LoadError(f"{path}:{name}() failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(obj, Prompt):
        raise _LoadError(f"{path}:{name} is a {type(obj).__name__}, not a thinllm.Prompt")
    return obj, f"{path}:{name}"


def _lint(args: argparse.Namespace) -> int:
    from thinllm._cachelint import lint_prompt

    try:
        prompt, label = load_prompt(args.target)
    except _LoadError as exc:
        print(f"thinllm cache lint: {exc}", file=sys.stderr)
        return 2
    warnings = lint_prompt(prompt, model=args.model, ignore=args.ignore)
    if args.json:
        print(json.dumps([asdict(w) for w in warnings], indent=2))
    else:
        for w in warnings:
            print(f"{label}: {w}")
        if warnings:
            print(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}", file=sys.stderr)
        else:
            print(f"{label}: no caching problems found")
    return 1 if warnings else 0
