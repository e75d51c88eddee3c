"""Comparing a candidate run with a baseline run: paired, honest, and with a verdict.

Only cases present in both runs with the same case hash are paired; added, removed
and edited cases are listed apart. Per case, the difference is the candidate's mean
pass (or score) over its epochs minus the baseline's. The gate is a one-sided paired
sign-flip test on the mean difference plus the margin; the interval is a paired
bootstrap that resamples whole cases. Never an unpaired test.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from ._run import CaseStats, Run, arm_stats, load_run
from ._stats import bootstrap_ci, detectable_drop, holm, needed, sign_flip_p

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from ._records import Record

__all__ = ["CaseDiff", "Comparison", "TagSlice", "compare"]

Verdict = Literal["pass", "regression", "inconclusive"]
Status = Literal["pass->fail", "fail->pass", "worse", "better", "unstable", "pass", "fail", "error"]


@dataclass(frozen=True, slots=True)
class CaseDiff:
    """One paired case: how its pass rate (or score) moved, with both arms' records.

    ``status``: ``pass->fail`` / ``fail->pass`` (every epoch flipped), ``worse`` /
    ``better`` (some epochs moved), ``unstable`` (the baseline's own epochs disagree,
    so a move is not evidence on its own), ``pass`` / ``fail`` (unchanged), ``error``
    (an arm has no graded epoch).
    """

    case_id: str
    tags: tuple[str, ...]
    critical: bool
    status: Status
    baseline: float | None
    candidate: float | None
    baseline_records: tuple[Record, ...] = ()
    candidate_records: tuple[Record, ...] = ()

    @property
    def diff(self) -> float | None:
        """Candidate minus baseline (``None`` if either errored)."""
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate - self.baseline


@dataclass(frozen=True, slots=True)
class TagSlice:
    """The comparison restricted to cases with one tag (Holm-adjusted p-value)."""

    tag: str
    n: int
    baseline: float
    candidate: float
    delta: float
    p_value: float
    p_adjusted: float
    note: str = ""


@dataclass(slots=True, eq=False)
class Comparison:
    """The result of :func:`compare`. ``verdict`` is ``"pass"``, ``"regression"`` or
    ``"inconclusive"``; ``reasons`` says why in plain words."""

    verdict: Verdict
    reasons: list[str]
    metric: str
    alpha: float
    margin: float
    noninferiority: bool
    n: int
    epochs: tuple[int, int]
    baseline_mean: float | None
    candidate_mean: float | None
    delta: float
    p_value: float
    exact: bool
    ci: tuple[float, float]
    detectable_drop: float | None
    needed_cases: int | None
    needed_epochs: int | None
    cases: list[CaseDiff]
    added: list[str]
    removed: list[str]
    edited: list[str]
    critical_failures: list[str]
    slices: list[TagSlice]
    arms: dict[str, dict[str, Any]]
    guardrails: list[dict[str, Any]]
    config_diff: dict[str, tuple[Any, Any]]
    harness_error: bool
    baseline_path: Path | None = None
    candidate_path: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def transitions(self) -> dict[str, int]:
        """Counts of each case status, plus added, removed and edited cases."""
        counts = Counter(c.status for c in self.cases)
        out = {
            s: counts.get(s, 0)
            for s in (
                "pass->fail",
                "fail->pass",
                "worse",
                "better",
                "unstable",
                "pass",
                "fail",
                "error",
            )
        }
        out |= {"added": len(self.added), "removed": len(self.removed), "edited": len(self.edited)}
        return out

    @property
    def regressions(self) -> list[CaseDiff]:
        """Cases to look at first: every epoch flipped to fail, or a critical case that
        now fails (unstable baseline cases are never listed here)."""
        return [
            c
            for c in self.cases
            if c.status == "pass->fail" or (c.critical and c.case_id in self.critical_failures)
        ]

    @property
    def worst_case(self) -> float:
        """How much worse (in points of pass rate or score) the candidate could be: the
        negated lower end of the 95% interval, floored at 0."""
        return max(0.0, -self.ci[0])

    def exit_code(self, *, inconclusive: int = 2) -> int:
        """0 pass, 1 regression, ``inconclusive`` (default 2), 3 harness error."""
        if self.harness_error:
            return 3
        return {"pass": 0, "regression": 1, "inconclusive": inconclusive}[self.verdict]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (without per-epoch outputs)."""
        return {
            "verdict": self.verdict,
            "reasons": self.reasons,
            "metric": self.metric,
            "alpha": self.alpha,
            "margin": self.margin,
            "noninferiority": self.noninferiority,
            "n": self.n,
            "epochs": list(self.epochs),
            "baseline_mean": self.baseline_mean,
            "candidate_mean": self.candidate_mean,
            "delta": self.delta,
            "p_value": self.p_value,
            "exact": self.exact,
            "ci": list(self.ci),
            "detectable_drop": self.detectable_drop,
            "needed_cases": self.needed_cases,
            "needed_epochs": self.needed_epochs,
            "transitions": self.transitions,
            "regressions": [c.case_id for c in self.regressions],
            "unstable": [c.case_id for c in self.cases if c.status == "unstable"],
            "added": self.added,
            "removed": self.removed,
            "edited": self.edited,
            "critical_failures": self.critical_failures,
            "slices": [vars_of(s) for s in self.slices],
            "arms": self.arms,
            "guardrails": self.guardrails,
            "config_diff": {k: list(v) for k, v in self.config_diff.items()},
            "harness_error": self.harness_error,
        }

    def to_text(self) -> str:
        """A terminal report."""
        from ._report_text import comparison_text

        return comparison_text(self)

    def to_markdown(self) -> str:
        """A Markdown report for a PR comment or CI step summary."""
        from ._report_text import comparison_markdown

        return comparison_markdown(self)

    def to_html(self) -> str:
        """A self-contained HTML report."""
        from ._report_html import comparison_html

        return comparison_html(self)

    def to_junit(self) -> str:
        """JUnit XML, one test case per eval case."""
        from ._report_junit import comparison_junit

        return comparison_junit(self)

    def _repr_html_(self) -> str:
        from ._report_html import comparison_html

        return comparison_html(self, full_page=False)

    def __repr__(self) -> str:
        return (
            f"<Comparison {self.verdict} n={self.n} delta={self.delta * 100:+.1f}pts "
            f"ci=[{self.ci[0] * 100:+.1f}, {self.ci[1] * 100:+.1f}] p={self.p_value:.3g}>"
        )


def vars_of(obj: Any) -> dict[str, Any]:
    """A slotted dataclass's fields as a dict."""
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


def compare(
    baseline: Run | str | Path,
    candidate: Run | str | Path,
    *,
    metric: str | None = None,
    margin: float | None = None,
    alpha: float | None = None,
    noninferiority: bool = False,
    cost_margin: float = 0.10,
    latency_margin: float = 0.20,
    seed: int = 0,
    resamples: int = 2000,
) -> Comparison:
    """Compare two runs of the same eval, case by case and epoch by epoch.

    ``margin`` (default from the eval, 0.02) is the drop that matters. In
    ``noninferiority`` mode (model rotation) the candidate passes only when the whole
    95% interval sits above ``-margin``. ``cost_margin`` and ``latency_margin`` flag a
    relative rise in cost per case or p95 latency; they are reported, not gated on.
    """
    base = baseline if isinstance(baseline, Run) else load_run(baseline)
    cand = candidate if isinstance(candidate, Run) else load_run(candidate)
    metric = metric or str(cand.manifest.get("metric", "pass"))
    margin = float(cand.manifest.get("margin", 0.02) if margin is None else margin)
    alpha = float(cand.manifest.get("alpha", 0.05) if alpha is None else alpha)
    b_cases, c_cases = base.cases(), cand.cases()
    b_records, c_records = _by_case(base.records), _by_case(cand.records)
    added = sorted(set(c_cases) - set(b_cases))
    removed = sorted(set(b_cases) - set(c_cases))
    edited = sorted(
        i for i in set(b_cases) & set(c_cases) if b_cases[i].case_hash != c_cases[i].case_hash
    )
    paired_ids = sorted(i for i in set(b_cases) & set(c_cases) if i not in edited)
    diffs: list[CaseDiff] = []
    for case_id in paired_ids:
        b, c = b_cases[case_id], c_cases[case_id]
        b_value, c_value = _value(b, metric), _value(c, metric)
        diffs.append(
            CaseDiff(
                case_id=case_id,
                tags=c.tags,
                critical=c.critical,
                status=_status(b, c, b_value, c_value),
                baseline=b_value,
                candidate=c_value,
                baseline_records=tuple(b_records[case_id]),
                candidate_records=tuple(c_records[case_id]),
            )
        )
    values = [d.diff for d in diffs if d.diff is not None]
    n = len(values)
    delta = math.fsum(values) / n if n else 0.0
    p_value, exact = sign_flip_p(values, seed=seed)
    ci = bootstrap_ci(values, resamples=resamples, seed=seed)
    sd = statistics.stdev(values) if n > 1 else 0.0
    epochs = (int(base.manifest.get("epochs", 1)), int(cand.manifest.get("epochs", 1)))
    det = detectable_drop(sd, n, alpha=alpha) if n > 1 and sd > 0 else None
    needed_cases, needed_epochs = _needed(diffs, values, metric, margin, alpha, n, epochs)
    critical = _critical_failures(b_cases, c_cases, paired_ids, added + edited)
    harness_error = base.harness_failed or cand.harness_failed
    verdict, reasons = _verdict(
        n=n,
        delta=delta,
        p=p_value,
        ci=ci,
        alpha=alpha,
        margin=margin,
        noninferiority=noninferiority,
        critical=critical,
    )
    if harness_error:
        reasons.append(
            "harness error: a run is incomplete or its errors exceed the error budget "
            f"(baseline {base.error_rate:.0%}, candidate {cand.error_rate:.0%} errored)"
        )
    if edited and not paired_ids:
        reasons.append(
            "every shared case changed hash: if only the graders changed, re-run the "
            "baseline with the new graders (cached generations make that cheap)"
        )
    arms = {"baseline": arm_stats(base.records), "candidate": arm_stats(cand.records)}
    for name, r in (("baseline", base), ("candidate", cand)):
        arms[name] |= {"arm": r.arm, "model": r.manifest.get("model")}
    paired_means = _means(diffs)
    return Comparison(
        verdict=verdict,
        reasons=reasons,
        metric=metric,
        alpha=alpha,
        margin=margin,
        noninferiority=noninferiority,
        n=n,
        epochs=epochs,
        baseline_mean=paired_means[0],
        candidate_mean=paired_means[1],
        delta=delta,
        p_value=p_value,
        exact=exact,
        ci=ci,
        detectable_drop=det,
        needed_cases=needed_cases,
        needed_epochs=needed_epochs,
        cases=diffs,
        added=added,
        removed=removed,
        edited=edited,
        critical_failures=critical,
        slices=_slices(diffs, seed=seed),
        arms=arms,
        guardrails=_guardrails(arms, cost_margin, latency_margin),
        config_diff=_config_diff(base.manifest, cand.manifest),
        harness_error=harness_error,
        baseline_path=base.path,
        candidate_path=cand.path,
        extras={"unpaired": {i: c_records[i] for i in added + edited}},
    )


def _by_case(records: Sequence[Record]) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = {}
    for r in records:
        out.setdefault(r.case_id, []).append(r)
    return out


def _value(stats: CaseStats, metric: str) -> float | None:
    return stats.pass_rate if metric == "pass" else stats.mean_score


def _status(b: CaseStats, c: CaseStats, bv: float | None, cv: float | None) -> Status:
    if bv is None or cv is None or b.pass_rate is None or c.pass_rate is None:
        return "error"
    if b.unstable:
        return "unstable"
    if b.pass_rate == 1 and c.pass_rate == 0:
        return "pass->fail"
    if b.pass_rate == 0 and c.pass_rate == 1:
        return "fail->pass"
    if cv < bv:
        return "worse"
    if cv > bv:
        return "better"
    return "pass" if b.pass_rate == 1 else "fail"


def _means(diffs: Sequence[CaseDiff]) -> tuple[float | None, float | None]:
    pairs = [(d.baseline, d.candidate) for d in diffs if d.diff is not None]
    if not pairs:
        return None, None
    return (
        math.fsum(b for b, _ in pairs if b is not None) / len(pairs),
        math.fsum(c for _, c in pairs if c is not None) / len(pairs),
    )


def _critical_failures(
    base: dict[str, CaseStats],
    cand: dict[str, CaseStats],
    paired: Sequence[str],
    unpaired: Sequence[str],
) -> list[str]:
    """Critical cases failing in most candidate epochs that did not fail in most
    baseline epochs (new or edited critical cases count as newly failing)."""
    out = []
    for case_id in [*paired, *unpaired]:
        c = cand[case_id]
        if not c.critical or c.pass_rate is None or c.pass_rate >= 0.5:
            continue
        b = base.get(case_id)
        if case_id in paired and b is not None and b.pass_rate is not None and b.pass_rate < 0.5:
            continue  # it failed before too: not new
        out.append(case_id)
    return sorted(out)


def _verdict(
    *,
    n: int,
    delta: float,
    p: float,
    ci: tuple[float, float],
    alpha: float,
    margin: float,
    noninferiority: bool,
    critical: Sequence[str],
) -> tuple[Verdict, list[str]]:
    pts = f"{-delta * 100:.1f} points"
    reasons = []
    if critical:
        reasons.append(f"critical case(s) now failing in most epochs: {', '.join(critical)}")
    if n > 0 and p < alpha and -delta >= margin:
        reasons.append(
            f"the candidate is worse by {pts} (p = {p:.3g} < {alpha}; "
            f"margin {margin * 100:g} points)"
        )
    if reasons:
        return "regression", reasons
    if n == 0:
        return "inconclusive", ["no comparable cases (same id and case hash in both runs)"]
    could = f"it could be up to {max(0.0, -ci[0]) * 100:.1f} points worse (95% interval)"
    if noninferiority:
        if ci[0] > -margin:
            return "pass", [
                f"non-inferior: the 95% interval's lower end {ci[0] * 100:+.1f} points is above "
                f"-{margin * 100:g}"
            ]
        return "inconclusive", [f"non-inferiority not shown: {could}, margin {margin * 100:g}"]
    if ci[0] < -margin and p >= alpha:
        return "inconclusive", [f"no significant drop (p = {p:.3g}), but {could}"]
    note = f"change {delta * 100:+.1f} points, p = {p:.3g}"
    if p < alpha and delta < 0:
        note += f" (significant, but smaller than the {margin * 100:g}-point margin)"
    return "pass", [note]


def _needed(
    diffs: Sequence[CaseDiff],
    values: Sequence[float],
    metric: str,
    margin: float,
    alpha: float,
    n: int,
    epochs: tuple[int, int],
) -> tuple[int | None, int | None]:
    """Cases (at these epochs) or epochs (on these cases) to detect a ``margin`` drop."""
    if n < 2:
        return None, None
    within = []
    for d in diffs:
        if d.diff is None:
            continue
        parts = []
        for records in (d.baseline_records, d.candidate_records):
            xs = [
                float(bool(r.passed)) if metric == "pass" else (r.score or 0.0)
                for r in records
                if not r.errored
            ]
            parts.append(statistics.variance(xs) if len(xs) > 1 else None)
        if None not in parts:
            within.append(sum(p for p in parts if p is not None))
    k = min(epochs)
    total = statistics.variance(values)
    if not within:
        return needed(drop=margin, n=n, epochs=k, between_var=total, within_var=0.0, alpha=alpha)
    within_var = math.fsum(within) / len(within)
    between = max(0.0, total - within_var / k)
    return needed(
        drop=margin, n=n, epochs=k, between_var=between, within_var=within_var, alpha=alpha
    )


def _slices(diffs: Sequence[CaseDiff], *, seed: int) -> list[TagSlice]:
    tags = sorted({t for d in diffs for t in d.tags})
    raw = []
    for tag in tags:
        vals = [d for d in diffs if tag in d.tags and d.diff is not None]
        if not vals:
            continue
        ds = [d.diff for d in vals if d.diff is not None]
        p, _ = sign_flip_p(ds, seed=seed, resamples=2000)
        b = math.fsum(d.baseline or 0.0 for d in vals) / len(vals)
        c = math.fsum(d.candidate or 0.0 for d in vals) / len(vals)
        raw.append((tag, len(vals), b, c, p))
    adjusted = holm([r[4] for r in raw])
    return [
        TagSlice(tag, n, b, c, c - b, p, padj, "too few cases to tell" if n < 10 else "")
        for (tag, n, b, c, p), padj in zip(raw, adjusted, strict=True)
    ]


def _guardrails(
    arms: dict[str, dict[str, Any]], cost_margin: float, latency_margin: float
) -> list[dict[str, Any]]:
    out = []
    checks = (
        ("cost per case (USD)", "cost_per_case_usd", cost_margin),
        ("p50 latency (ms)", "latency_p50_ms", latency_margin),
        ("p95 latency (ms)", "latency_p95_ms", latency_margin),
    )
    for label, key, limit in checks:
        b, c = arms["baseline"].get(key), arms["candidate"].get(key)
        if b is None or c is None:
            continue
        bf, cf = float(Decimal(str(b))), float(Decimal(str(c)))
        change = (cf - bf) / bf if bf > 0 else None
        out.append(
            {
                "name": label,
                "baseline": bf,
                "candidate": cf,
                "change": change,
                "margin": limit,
                "exceeded": change is not None and change > limit,
            }
        )
    return out


#: Manifest keys worth showing when they differ between the two arms.
_CONFIG_KEYS = (
    "model",
    "arm",
    "prompt_hash",
    "params",
    "graders_fingerprint",
    "dataset_hash",
    "epochs",
    "thinllm_version",
    "threshold",
)


def _config_diff(base: dict[str, Any], cand: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    out = {k: (base.get(k), cand.get(k)) for k in _CONFIG_KEYS if base.get(k) != cand.get(k)}
    bg, cg = base.get("git") or {}, cand.get("git") or {}
    if bg.get("commit") != cg.get("commit"):
        out["git commit"] = (bg.get("commit"), cg.get("commit"))
    return out
