"""``thinllm eval run|compare|bless|rotate``: evals from the command line and in CI.

Exit status: 0 pass (or no baseline), 1 regression, 2 inconclusive (``--inconclusive-exit``
changes it), 3 harness error (bad spec or cases, too many errors, incomplete run).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from thinllm.evals import Comparison, Eval, EvalCache, Run

__all__ = ["register"]

HARNESS_ERROR = 3
DEFAULT_CI_EPOCHS = 3


def register(subparsers: Any) -> None:
    """Add ``eval`` (run, compare, bless, rotate) to the ``thinllm`` command line."""
    ev = subparsers.add_parser(
        "eval",
        help="run golden-set evals, compare runs, gate regressions",
        description="Run evals, compare a candidate with a baseline, bless a baseline, "
        "rotate models. Exit: 0 pass, 1 regression, 2 inconclusive, 3 harness error.",
    )
    sub = ev.add_subparsers(dest="eval_command", metavar="COMMAND")

    run = sub.add_parser("run", help="run an eval spec (and gate against a baseline)")
    run.add_argument("spec", help="a Python file defining EVAL = thinllm.evals.Eval(...)")
    run.add_argument("--out", required=True, help="run directory (resumed if it holds this run)")
    run.add_argument("--baseline", help="a blessed baseline or earlier run directory")
    run.add_argument("--arm", help="route name or model to run (default: the eval's)")
    run.add_argument("--epochs", type=int, help=f"repeats per case (default {DEFAULT_CI_EPOCHS})")
    _batch_option(run)
    _gate_options(run)
    _cache_options(run)
    _report_options(run)
    run.set_defaults(func=_run)

    cmp = sub.add_parser("compare", help="compare two run directories")
    cmp.add_argument("baseline")
    cmp.add_argument("candidate")
    _gate_options(cmp)
    _report_options(cmp)
    cmp.set_defaults(func=_compare)

    bless = sub.add_parser("bless", help="promote a run to the stored baseline (never automatic)")
    bless.add_argument("run", help="the run directory to promote")
    bless.add_argument("--to", help="baseline directory (default .thinllm/baselines/<eval>)")
    bless.add_argument("--force", action="store_true", help="bless an incomplete or erroring run")
    bless.set_defaults(func=_bless)

    rotate = sub.add_parser("rotate", help="run two models on the same cases and compare them")
    rotate.add_argument("spec")
    rotate.add_argument("--from", dest="from_arm", required=True, help="current route or model")
    rotate.add_argument("--to", dest="to_arm", required=True, help="candidate route or model")
    rotate.add_argument("--out", required=True, help="directory for both arms' runs")
    rotate.add_argument(
        "--epochs", type=int, help=f"repeats per case (default {DEFAULT_CI_EPOCHS})"
    )
    _batch_option(rotate)
    _gate_options(rotate, noninferiority_default=True)
    _cache_options(rotate)
    _report_options(rotate)
    rotate.set_defaults(func=_rotate)
    ev.set_defaults(func=lambda args: _help(ev))


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def _gate_options(p: argparse.ArgumentParser, *, noninferiority_default: bool = False) -> None:
    p.add_argument("--margin", type=float, help="drop that matters, in points (default 2)")
    p.add_argument(
        "--inconclusive-exit", type=int, default=2, metavar="N", help="exit code for inconclusive"
    )
    if noninferiority_default:
        p.add_argument(
            "--superiority",
            dest="noninferiority",
            action="store_false",
            help="gate like `run` (regression test) instead of requiring non-inferiority",
        )
        p.set_defaults(noninferiority=True)
    else:
        p.add_argument(
            "--noninferiority",
            action="store_true",
            help="pass only if the 95%% interval excludes a drop of the margin",
        )


def _batch_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--batch",
        action="store_true",
        default=None,
        help="send generations through the vendor batch API (half price, hours of latency)",
    )


def _cache_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-cache", action="store_true", help="make fresh calls (still stores them)")
    p.add_argument(
        "--cache",
        default=os.environ.get("THINLLM_EVAL_CACHE", ".thinllm/eval-cache.sqlite"),
        help="cache file (default .thinllm/eval-cache.sqlite or $THINLLM_EVAL_CACHE)",
    )


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML")
    p.add_argument("--markdown", metavar="FILE", help="write Markdown (appends to a step summary)")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _crash() -> int:
    """An unexpected exception is a harness error (exit 3), never a "regression" (1)."""
    traceback.print_exc()
    return _fail("harness error (traceback above)")


def _fail(message: str) -> int:
    print(f"thinllm eval: {message}", file=sys.stderr)
    return HARNESS_ERROR


def _open_cache(args: argparse.Namespace) -> EvalCache:
    from thinllm.evals import EvalCache

    return EvalCache(Path(args.cache), read=not args.no_cache)


def _load(spec: str) -> Eval:
    from thinllm.evals import load_spec

    return load_spec(spec)


def _run(args: argparse.Namespace) -> int:
    from thinllm.errors import ThinLLMError
    from thinllm.evals import arun, compare
    from thinllm.evals._progress import Progress

    try:
        ev = _load(args.spec)
        epochs = args.epochs or ev.epochs or DEFAULT_CI_EPOCHS
        total = len(ev.load_cases()) * epochs
        progress = Progress(total, label=ev.name)
        with _open_cache(args) as cache:
            result = asyncio.run(
                arun(
                    ev,
                    out=args.out,
                    arm=args.arm,
                    epochs=epochs,
                    cache=cache,
                    progress=progress,
                    batch=args.batch,
                )
            )
        progress.close()
    except (ThinLLMError, OSError) as exc:
        return _fail(str(exc))
    except Exception:
        return _crash()
    if args.baseline is None:
        _emit(args, result)
        return HARNESS_ERROR if result.harness_failed else 0
    try:
        comparison = compare(
            args.baseline, result, margin=_margin(args), noninferiority=args.noninferiority
        )
    except (ThinLLMError, OSError) as exc:
        return _fail(str(exc))
    except Exception:
        return _crash()
    _save_comparison(Path(args.out) / "comparison.json", comparison)
    _emit(args, comparison)
    return comparison.exit_code(inconclusive=args.inconclusive_exit)


def _compare(args: argparse.Namespace) -> int:
    from thinllm.errors import ThinLLMError
    from thinllm.evals import compare

    try:
        comparison = compare(
            args.baseline, args.candidate, margin=_margin(args), noninferiority=args.noninferiority
        )
    except (ThinLLMError, OSError) as exc:
        return _fail(str(exc))
    except Exception:
        return _crash()
    _emit(args, comparison)
    return comparison.exit_code(inconclusive=args.inconclusive_exit)


def _bless(args: argparse.Namespace) -> int:
    from thinllm.errors import ThinLLMError
    from thinllm.evals import load_run

    try:
        run = load_run(args.run)
    except (ThinLLMError, OSError) as exc:
        return _fail(str(exc))
    except Exception:
        return _crash()
    if run.harness_failed and not args.force:
        return _fail(
            f"{args.run} is incomplete or has too many errors "
            f"({run.error_rate:.0%}); fix it or pass --force"
        )
    target = Path(args.to) if args.to else Path(".thinllm/baselines") / run.name
    assert run.path is not None
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("manifest.json", "results.jsonl", "summary.json"):
        if (run.path / name).exists():
            shutil.copy2(run.path / name, staging / name)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    print(f"blessed {args.run} as the baseline in {target}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from thinllm.errors import ThinLLMError
    from thinllm.evals import arun, compare
    from thinllm.evals._progress import Progress

    try:
        ev = _load(args.spec)
        epochs = args.epochs or ev.epochs or DEFAULT_CI_EPOCHS
        total = len(ev.load_cases()) * epochs
        old = ev.make_target(args.from_arm)
        new = ev.make_target(args.to_arm, like=args.from_arm)
        out = Path(args.out)
        with _open_cache(args) as cache:
            progress = Progress(2 * total, label=f"{ev.name} {old.arm} vs {new.arm}")

            async def both() -> tuple[Run, Run]:
                base, cand = await asyncio.gather(
                    arun(
                        ev,
                        out=out / _safe(old.arm),
                        epochs=epochs,
                        cache=cache,
                        progress=progress,
                        target=old,
                        batch=args.batch,
                    ),
                    arun(
                        ev,
                        out=out / _safe(new.arm),
                        epochs=epochs,
                        cache=cache,
                        progress=progress,
                        target=new,
                        batch=args.batch,
                    ),
                )
                return base, cand

            base, cand = asyncio.run(both())
        progress.close()
        comparison = compare(base, cand, margin=_margin(args), noninferiority=args.noninferiority)
    except (ThinLLMError, OSError) as exc:
        return _fail(str(exc))
    except Exception:
        return _crash()
    _save_comparison(out / "comparison.json", comparison)
    _emit(args, comparison)
    return comparison.exit_code(inconclusive=args.inconclusive_exit)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def _margin(args: argparse.Namespace) -> float | None:
    return None if args.margin is None else args.margin / 100


def _save_comparison(path: Path, comparison: Comparison) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(comparison.to_dict(), indent=2, default=str) + "\n", encoding="utf-8"
    )


def _emit(args: argparse.Namespace, result: Run | Comparison) -> None:
    from thinllm.evals import Comparison
    from thinllm.evals._report_html import run_html
    from thinllm.evals._report_junit import run_junit

    if isinstance(result, Comparison):
        text, markdown = result.to_text(), result.to_markdown()
        html, junit = result.to_html, result.to_junit
        data: dict[str, Any] = result.to_dict()
    else:
        text, markdown = result.to_text(), result.to_markdown()
        html, junit = (lambda: run_html(result)), (lambda: run_junit(result))
        data = result.summary()
    if args.markdown:
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        mode = "a" if summary and Path(summary).resolve() == Path(args.markdown).resolve() else "w"
        with Path(args.markdown).open(mode, encoding="utf-8") as f:
            f.write(markdown)
    if args.html:
        Path(args.html).write_text(html(), encoding="utf-8")
    if args.junit:
        Path(args.junit).write_text(junit(), encoding="utf-8")
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        print(text, end="")
