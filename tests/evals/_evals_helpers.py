"""Builders for synthetic runs, so statistics and reports are tested without a model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from thinllm.evals import GradeRecord, Record, Run


def make_run(
    outcomes: Mapping[str, Sequence[bool | None]],
    *,
    arm: str = "base",
    critical: Sequence[str] = (),
    tags: Mapping[str, Sequence[str]] | None = None,
    hashes: Mapping[str, str] | None = None,
    outputs: Mapping[str, str] | None = None,
    cost: str = "0.001",
    latency_ms: float = 100.0,
) -> Run:
    """A run whose case ``id`` passed (True), failed (False) or errored (None) per epoch."""
    records = []
    epochs = max((len(v) for v in outcomes.values()), default=1)
    for case_id, results in outcomes.items():
        for epoch, passed in enumerate(results):
            error = {"type": "timeout", "message": "no answer"} if passed is None else None
            grades = (
                ()
                if passed is None
                else (
                    GradeRecord(
                        "exact", "1", passed, float(passed), "matches" if passed else "differs"
                    ),
                )
            )
            records.append(
                Record(
                    case_id=case_id,
                    case_hash=(hashes or {}).get(case_id, "h-" + case_id),
                    epoch=epoch,
                    arm=arm,
                    output=None
                    if passed is None
                    else (outputs or {}).get(case_id, f"out {case_id}"),
                    passed=passed,
                    score=None if passed is None else float(passed),
                    grades=grades,
                    error=error,
                    model=arm,
                    tags=tuple((tags or {}).get(case_id, ())),
                    critical=case_id in critical,
                    input=f"input {case_id}",
                    expected="yes",
                    cost_usd=cost,
                    cost_equiv_usd=cost,
                    latency_ms=latency_ms,
                )
            )
    manifest = {
        "eval": "synthetic",
        "arm": arm,
        "model": arm,
        "cases": len(outcomes),
        "epochs": epochs,
    }
    return Run(manifest, records)


def uniform(
    n: int, passed: Sequence[bool | None], prefix: str = "c"
) -> dict[str, list[bool | None]]:
    """``n`` cases with the same per-epoch outcomes."""
    return {f"{prefix}{i:03d}": list(passed) for i in range(n)}
