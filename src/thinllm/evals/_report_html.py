"""Self-contained HTML reports (one file, no external assets). Everything user- or
model-written is escaped: outputs are untrusted text."""

from __future__ import annotations

import difflib
import html
import json
import re
from typing import TYPE_CHECKING, Any

from ._report_text import RUN_HEAD, epochs_dots, money, ms, pct, pts, run_rows

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._compare import CaseDiff, Comparison
    from ._records import Record
    from ._run import Run

__all__ = ["comparison_html", "run_html", "word_diff"]

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1b1b1b}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f4f4f4}
.v-pass{color:#116611}.v-regression{color:#b00020}.v-inconclusive{color:#9a6700}
pre{white-space:pre-wrap;margin:0;font:12px/1.4 ui-monospace,monospace}
del{background:#ffd7d5;text-decoration:line-through}ins{background:#ccffd8;text-decoration:none}
.case{border:1px solid #ddd;margin:.4em 0;padding:.3em .6em}.muted{color:#666}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}
"""

_FILTER_JS = """
function thinllmFilter(s){document.querySelectorAll('.case').forEach(function(e){
e.style.display=(s==='all'||e.dataset.status===s)?'':'none';});}
"""


def e(value: Any) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape(str(value), quote=True)


def word_diff(old: str, new: str) -> str:
    """An escaped inline word diff: removed words in ``<del>``, added in ``<ins>``."""
    a, b = re.split(r"(\s+)", old), re.split(r"(\s+)", new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(e("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{e(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{e(''.join(b[j1:j2]))}</ins>")
    return "".join(out)


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    th = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{e(x)}</td>" for x in r) + "</tr>" for r in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


def _page(title: str, body: str, full_page: bool) -> str:
    if not full_page:
        return f"<div class='thinllm-eval'><style>{_CSS}</style>{body}</div>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(title)}</title><style>{_CSS}</style><script>{_FILTER_JS}</script>"
        f"</head><body>{body}</body></html>"
    )


def _arms(c: Comparison) -> str:
    rows = []
    for name in ("baseline", "candidate"):
        a = c.arms[name]
        tokens = a.get("tokens") or {}
        rows.append(
            [
                name,
                a.get("arm"),
                a.get("model"),
                money(a.get("cost_per_case_usd")),
                money(a.get("cost_usd")),
                money(a.get("judge_cost_usd")),
                pct(a.get("cache_hit_ratio")),
                tokens.get("input_tokens", 0),
                tokens.get("cache_read_tokens", 0),
                tokens.get("cache_write_tokens", 0),
                tokens.get("output_tokens", 0),
                ms(a.get("latency_p50_ms")),
                ms(a.get("latency_p95_ms")),
                a.get("retries"),
                a.get("errors"),
            ]
        )
    head = [
        "arm",
        "route",
        "model",
        "cost/case",
        "spent",
        "judge cost",
        "cache hits",
        "input tok",
        "cache read",
        "cache write",
        "output tok",
        "p50 ms",
        "p95 ms",
        "retries",
        "errors",
    ]
    return _table(head, rows)


def _grades(records: Sequence[Record]) -> str:
    rows = []
    for r in records:
        if r.error is not None:
            rows.append([r.epoch, "error", "", f"{r.error.get('type')}: {r.error.get('message')}"])
        for g in r.grades:
            score = "" if g.score is None else f"{g.score:.2f}"
            rows.append([r.epoch, g.name, ("pass" if g.passed else "FAIL") + f" {score}", g.reason])
    return _table(["epoch", "grader", "result", "reason"], rows) if rows else ""


def _case(d: CaseDiff) -> str:
    b = d.baseline_records[0] if d.baseline_records else None
    c = d.candidate_records[0] if d.candidate_records else None
    b_text, c_text = (b.output or "") if b else "", (c.output or "") if c else ""
    inp = c.input if c is not None else None
    inp_text = inp if isinstance(inp, str) else json.dumps(inp, ensure_ascii=False, indent=1)
    crit = " <b>critical</b>" if d.critical else ""
    expected = json.dumps(c.expected if c else None, ensure_ascii=False)
    return (
        f"<details class='case' data-status='{e(d.status)}'><summary><b>{e(d.case_id)}</b> "
        f"{e(d.status)}{crit} <span class='muted'>{e(', '.join(d.tags))}</span> "
        f"{e(epochs_dots(d.baseline_records))} → {e(epochs_dots(d.candidate_records))}"
        f"</summary><p class='muted'>input</p><pre>{e(inp_text)}</pre>"
        f"<p class='muted'>expected</p><pre>{e(expected)}</pre>"
        f"<div class='side'><div><p class='muted'>baseline (epoch 0)</p><pre>{e(b_text)}</pre>"
        f"{_grades(d.baseline_records)}</div><div><p class='muted'>candidate (epoch 0), diff</p>"
        f"<pre>{word_diff(b_text, c_text)}</pre>{_grades(d.candidate_records)}</div></div>"
        "</details>"
    )


_ORDER = {
    "pass->fail": 0,
    "worse": 1,
    "error": 2,
    "unstable": 3,
    "fail->pass": 4,
    "better": 5,
    "fail": 6,
    "pass": 7,
}


def comparison_html(c: Comparison, *, full_page: bool = True) -> str:
    """The comparison as HTML: verdict, interval, transitions, tags, cases side by side."""
    parts = [
        f"<h2 class='v-{e(c.verdict)}'>eval verdict: {e(c.verdict.upper())}</h2>",
        "<ul>" + "".join(f"<li>{e(r)}</li>" for r in c.reasons) + "</ul>",
        _table(
            [
                "metric",
                "baseline",
                "candidate",
                "change",
                "95% CI",
                "p (one-sided)",
                "cases",
                "epochs",
                "detectable drop",
            ],
            [
                [
                    c.metric,
                    pct(c.baseline_mean),
                    pct(c.candidate_mean),
                    pts(c.delta),
                    f"[{pts(c.ci[0])}, {pts(c.ci[1])}]",
                    f"{c.p_value:.3g}",
                    c.n,
                    f"{c.epochs[0]}/{c.epochs[1]}",
                    "n/a" if c.detectable_drop is None else f"{c.detectable_drop * 100:.1f} pts",
                ]
            ],
        ),
        "<h3>Transitions</h3>",
        _table(list(c.transitions), [list(c.transitions.values())]),
        "<h3>Per arm</h3>",
        _arms(c),
    ]
    if c.guardrails:
        parts.append(
            _table(
                ["guardrail", "baseline", "candidate", "change", "margin", "exceeded"],
                [
                    [
                        g["name"],
                        f"{g['baseline']:.6g}",
                        f"{g['candidate']:.6g}",
                        "n/a" if g["change"] is None else f"{g['change']:+.0%}",
                        f"{g['margin']:.0%}",
                        "yes" if g["exceeded"] else "no",
                    ]
                    for g in c.guardrails
                ],
            )
        )
    if c.config_diff:
        parts.append("<h3>Changed between arms</h3>")
        parts.append(
            _table(
                ["setting", "baseline", "candidate"],
                [
                    [k, json.dumps(a, default=str), json.dumps(b, default=str)]
                    for k, (a, b) in sorted(c.config_diff.items())
                ],
            )
        )
    if c.slices:
        parts.append("<h3>Per tag</h3>")
        parts.append(
            _table(
                ["tag", "cases", "baseline", "candidate", "change", "p (Holm)", "note"],
                [
                    [
                        s.tag,
                        s.n,
                        pct(s.baseline),
                        pct(s.candidate),
                        pts(s.delta),
                        f"{s.p_adjusted:.3g}",
                        s.note,
                    ]
                    for s in c.slices
                ],
            )
        )
    for label, ids in (("Added", c.added), ("Removed", c.removed), ("Edited", c.edited)):
        if ids:
            parts.append(f"<p><b>{label} cases</b> (not compared): {e(', '.join(ids))}</p>")
    buttons = "".join(
        f"<button onclick=\"thinllmFilter('{s}')\">{e(s)}</button> "
        for s in ("all", "pass->fail", "worse", "unstable", "error", "fail->pass", "better")
    )
    parts.append(f"<h3>Cases</h3><p>{buttons}</p>")
    ordered = sorted(c.cases, key=lambda d: (_ORDER.get(d.status, 9), d.case_id))
    parts.extend(_case(d) for d in ordered)
    return _page("thinllm eval comparison", "".join(parts), full_page)


def run_html(run: Run, *, full_page: bool = True) -> str:
    """One run as HTML: the summary and each case's outputs and grades."""
    parts = [
        f"<h2>eval {e(run.name)}: {e(run.arm)}</h2>",
        # The same columns as the terminal and Markdown reports, minus the arm (in the title).
        _table(RUN_HEAD[1:], [row[1:] for row in run_rows(run)]),
    ]
    grouped: dict[str, list[Record]] = {}
    for r in run.records:
        grouped.setdefault(r.case_id, []).append(r)
    for case_id, rs in grouped.items():
        parts.append(
            f"<details class='case'><summary><b>{e(case_id)}</b> {e(epochs_dots(rs))}</summary>"
            f"<pre>{e(rs[0].output or '')}</pre>{_grades(rs)}</details>"
        )
    return _page(f"thinllm eval {run.name}", "".join(parts), full_page)
