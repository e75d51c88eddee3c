"""Terminal and Markdown reports for runs and comparisons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._compare import CaseDiff, Comparison
    from ._records import Record
    from ._run import Run

__all__ = ["comparison_markdown", "comparison_text", "run_markdown", "run_text"]

MAX_LISTED = 15


def pct(value: float | None) -> str:
    """A share as a percentage."""
    return "n/a" if value is None else f"{value * 100:.1f}%"


def pts(value: float | None) -> str:
    """A difference of shares in signed percentage points."""
    return "n/a" if value is None else f"{value * 100:+.1f} pts"


def money(value: Any) -> str:
    """A USD amount."""
    try:
        return f"${float(value):.6f}"
    except (TypeError, ValueError):
        return "n/a"


def ms(value: float | None) -> str:
    """Milliseconds."""
    return "n/a" if value is None else f"{value:.0f}"


def epochs_dots(records: Sequence[Record]) -> str:
    """Per-epoch outcomes: ``✓`` pass, ``✗`` fail, ``!`` error."""
    return "".join("!" if r.errored else ("✓" if r.passed else "✗") for r in records)


def first_reason(records: Sequence[Record]) -> str:
    """The first failing grader's reason (or the error) among some records."""
    for r in records:
        if r.error is not None:
            return f"error: {r.error.get('type')}: {r.error.get('message', '')}"[:160]
        for g in r.grades:
            if not g.passed:
                return f"{g.name}: {g.reason}"[:160]
    return ""


def _arm_rows(c: Comparison) -> list[list[str]]:
    rows = []
    for name in ("baseline", "candidate"):
        a = c.arms[name]
        rows.append(
            [
                name,
                str(a.get("arm")),
                money(a.get("cost_per_case_usd")),
                money(a.get("judge_cost_usd")),
                pct(a.get("cache_hit_ratio")),
                ms(a.get("latency_p50_ms")),
                ms(a.get("latency_p95_ms")),
                str(a.get("retries")),
                str(a.get("errors")),
            ]
        )
    return rows


_ARM_HEAD = [
    "arm",
    "route",
    "cost/case",
    "judge cost",
    "cache hits",
    "p50 ms",
    "p95 ms",
    "retries",
    "errors",
]


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True)) for r in rows]
    return out


def _headline(c: Comparison) -> list[str]:
    metric = "pass rate" if c.metric == "pass" else "mean score"
    lines = [
        f"{metric}: baseline {pct(c.baseline_mean)} -> candidate {pct(c.candidate_mean)}, "
        f"change {pts(c.delta)}, 95% CI [{pts(c.ci[0])}, {pts(c.ci[1])}], "
        f"p = {c.p_value:.3g} ({'exact' if c.exact else 'sampled'}, one-sided, paired)",
        f"{c.n} paired cases x {c.epochs[0]}/{c.epochs[1]} epochs (baseline/candidate); "
        f"margin {c.margin * 100:g} pts" + (", non-inferiority mode" if c.noninferiority else ""),
    ]
    if c.detectable_drop is not None:
        lines.append(
            "smallest drop this comparison detects with 80% power: "
            f"{c.detectable_drop * 100:.1f} pts"
        )
    if c.verdict == "inconclusive" and c.needed_cases is not None:
        more = f"about {c.needed_cases} cases at {min(c.epochs)} epochs"
        if c.needed_epochs is not None:
            more += f", or {c.needed_epochs} epochs on these {c.n} cases"
        lines.append(f"to settle a {c.margin * 100:g}-point drop: {more}")
    return lines


def _transitions(c: Comparison) -> str:
    return ", ".join(f"{k} {v}" for k, v in c.transitions.items())


def _listed(c: Comparison) -> list[CaseDiff]:
    return c.regressions[:MAX_LISTED]


def comparison_text(c: Comparison) -> str:
    """A plain-text report for the terminal."""
    out = [f"verdict: {c.verdict.upper()}"]
    out += [f"  {r}" for r in c.reasons]
    out += _headline(c)
    out.append(f"transitions: {_transitions(c)}")
    out.append("")
    out += _table(_ARM_HEAD, _arm_rows(c))
    for g in c.guardrails:
        if g["exceeded"]:
            out.append(f"guardrail: {g['name']} up {g['change']:.0%} (margin {g['margin']:.0%})")
    if c.config_diff:
        out.append("")
        out.append("changed between arms: " + ", ".join(sorted(c.config_diff)))
    if _listed(c):
        out.append("")
        out.append("regressed cases:")
        for d in _listed(c):
            out.append(
                f"  {d.case_id} {epochs_dots(d.baseline_records)} -> "
                f"{epochs_dots(d.candidate_records)}  {first_reason(d.candidate_records)}"
            )
    unstable = [d.case_id for d in c.cases if d.status == "unstable"]
    if unstable:
        out.append(f"unstable in the baseline (not counted as regressions): {len(unstable)}")
    return "\n".join(out) + "\n"


def _md_escape(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md_escape(x) for x in r) + " |" for r in rows]
    return out


_ICON = {"pass": "✅", "regression": "❌", "inconclusive": "⚠️"}


def comparison_markdown(c: Comparison) -> str:
    """A Markdown report for a PR comment or ``$GITHUB_STEP_SUMMARY``."""
    out = [f"### {_ICON[c.verdict]} eval verdict: **{c.verdict}**", ""]
    out += [f"- {_md_escape(r)}" for r in c.reasons]
    out += [f"- {_md_escape(line)}" for line in _headline(c)]
    out += ["", "**Transitions**", ""]
    t = c.transitions
    out += _md_table(list(t), [[str(v) for v in t.values()]])
    out += ["", "**Per arm**", ""]
    out += _md_table(_ARM_HEAD, _arm_rows(c))
    exceeded = [g for g in c.guardrails if g["exceeded"]]
    if exceeded:
        out += [""] + [
            f"- guardrail: {g['name']} up {g['change']:.0%} (margin {g['margin']:.0%})"
            for g in exceeded
        ]
    if _listed(c):
        out += ["", "**Regressed cases**", ""]
        out += _md_table(
            ["case", "tags", "baseline", "candidate", "why"],
            [
                [
                    d.case_id,
                    ", ".join(d.tags),
                    epochs_dots(d.baseline_records),
                    epochs_dots(d.candidate_records),
                    first_reason(d.candidate_records),
                ]
                for d in _listed(c)
            ],
        )
    if c.slices:
        out += ["", "<details><summary>Per tag</summary>", ""]
        out += _md_table(
            ["tag", "cases", "baseline", "candidate", "change", "p (Holm)", "note"],
            [
                [
                    s.tag,
                    str(s.n),
                    pct(s.baseline),
                    pct(s.candidate),
                    pts(s.delta),
                    f"{s.p_adjusted:.3g}",
                    s.note,
                ]
                for s in c.slices
            ],
        )
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def run_rows(run: Run) -> list[list[str]]:
    """One row of a run's summary, in :data:`RUN_HEAD` order (shared by every report)."""
    s = run.summary()
    return [
        [
            str(s["arm"]),
            str(s["cases"]),
            str(s["epochs"]),
            pct(s["pass_rate"]),
            str(s["errors"]),
            money(s["cost_usd"]),
            money(s["cost_per_case_usd"]),
            money(s["judge_cost_usd"]),
            pct(s["cache_hit_ratio"]),
            ms(s["latency_p50_ms"]),
            ms(s["latency_p95_ms"]),
            str(s["retries"]),
        ]
    ]


RUN_HEAD = [
    "arm",
    "cases",
    "epochs",
    "pass rate",
    "errors",
    "spent",
    "cost/case",
    "judge cost",
    "cache hits",
    "p50 ms",
    "p95 ms",
    "retries",
]


def _failing(run: Run) -> list[tuple[str, list[Record]]]:
    grouped: dict[str, list[Record]] = {}
    for r in run.records:
        grouped.setdefault(r.case_id, []).append(r)
    return [(i, rs) for i, rs in grouped.items() if any(not r.passed for r in rs)]


def run_text(run: Run) -> str:
    """A plain-text summary of one run."""
    out = [f"eval {run.name}" + (" (HARNESS ERROR)" if run.harness_failed else "")]
    out += _table(RUN_HEAD, run_rows(run))
    failing = _failing(run)
    if failing:
        out.append("")
        out.append(f"failing or errored cases ({len(failing)}):")
        for case_id, rs in failing[:MAX_LISTED]:
            out.append(f"  {case_id} {epochs_dots(rs)}  {first_reason(rs)}")
    return "\n".join(out) + "\n"


def run_markdown(run: Run) -> str:
    """A Markdown summary of one run."""
    out = [f"### eval {_md_escape(run.name)}", ""]
    if run.harness_failed:
        out += ["**Harness error**: incomplete run or too many errors.", ""]
    out += _md_table(RUN_HEAD, run_rows(run))
    failing = _failing(run)
    if failing:
        out += ["", f"**Failing or errored cases** ({len(failing)})", ""]
        out += _md_table(
            ["case", "epochs", "why"],
            [[i, epochs_dots(rs), first_reason(rs)] for i, rs in failing[:MAX_LISTED]],
        )
    return "\n".join(out) + "\n"
