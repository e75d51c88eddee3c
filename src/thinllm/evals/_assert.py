"""Running a golden set inside a test suite: :func:`assert_eval`.

Also available as the ``thinllm_eval`` fixture via ``pytest_plugins =
["thinllm.evals.pytest_plugin"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._cache import EvalCache
from ._compare import Comparison, compare
from ._run import Run
from ._runner import run
from ._spec import Eval, load_spec

if TYPE_CHECKING:
    import os


__all__ = ["EvalAssertionError", "assert_eval"]


class EvalAssertionError(AssertionError):
    """An eval inside a test suite regressed, was inconclusive or fell below its bar.
    The message is the terminal report."""


def assert_eval(
    eval_: Eval | str | os.PathLike[str],
    *,
    baseline: Run | str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    epochs: int | None = None,
    arm: str | None = None,
    min_pass_rate: float | None = None,
    noninferiority: bool = False,
    allow_inconclusive: bool = False,
    cache: str | os.PathLike[str] | None = None,
) -> Run | Comparison:
    """Run an eval (an :class:`Eval` or a spec path) and fail the test when it is worse.

    With ``baseline``, fails on a ``regression`` verdict (and on ``inconclusive`` unless
    ``allow_inconclusive``); with ``min_pass_rate``, fails when the pass rate is lower.
    Always fails when the harness itself failed (too many errors). Returns the
    :class:`Comparison` when there is a baseline, else the :class:`Run`.

    Call it from a synchronous test (it runs its own event loop).
    """
    spec = eval_ if isinstance(eval_, Eval) else load_spec(eval_)
    store = EvalCache(Path(cache)) if cache is not None else None
    try:
        result = run(
            spec, out=None if out is None else Path(out), arm=arm, epochs=epochs, cache=store
        )
    finally:
        if store is not None:
            store.close()
    if result.harness_failed:
        raise EvalAssertionError("eval harness failed\n" + result.to_text())
    summary = result.summary()
    rate = summary["pass_rate"]
    if min_pass_rate is not None and (rate is None or rate < min_pass_rate):
        raise EvalAssertionError(
            f"pass rate {rate:.1%} is below {min_pass_rate:.1%}\n" + result.to_text()
            if rate is not None
            else "no case was graded\n" + result.to_text()
        )
    if baseline is None:
        return result
    base = baseline if isinstance(baseline, Run) else Path(baseline)
    comparison = compare(base, result, noninferiority=noninferiority)
    bad: Any = {"regression"} | (set() if allow_inconclusive else {"inconclusive"})
    if comparison.verdict in bad or comparison.harness_error:
        raise EvalAssertionError(comparison.to_text())
    return comparison
