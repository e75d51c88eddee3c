"""A finished (or interrupted) eval run and its directory.

A run directory holds ``manifest.json`` (what was run: git commit and dirty flag,
dataset, prompt and grader hashes, model, parameters, thinllm version),
``results.jsonl`` (one line per case and epoch) and ``summary.json``.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._records import Record, read_records
from ._stats import percentile

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["CaseStats", "Run", "git_info", "load_run", "thinllm_version"]

MANIFEST = "manifest.json"
RESULTS = "results.jsonl"
SUMMARY = "summary.json"
RUN_SCHEMA = "thinllm.eval-run/1"


@dataclass(frozen=True, slots=True)
class CaseStats:
    """One case across its epochs in one run."""

    case_id: str
    case_hash: str
    tags: tuple[str, ...]
    critical: bool
    passes: tuple[bool, ...]  # graded epochs only
    scores: tuple[float, ...]
    errors: int

    @property
    def pass_rate(self) -> float | None:
        """Share of graded epochs that passed (``None`` if every epoch errored)."""
        return sum(self.passes) / len(self.passes) if self.passes else None

    @property
    def mean_score(self) -> float | None:
        """Mean weighted score over graded epochs."""
        return math.fsum(self.scores) / len(self.scores) if self.scores else None

    @property
    def unstable(self) -> bool:
        """Whether its graded epochs disagree (some passed, some failed)."""
        return 0 < sum(self.passes) < len(self.passes)


class Run:
    """An eval run: its manifest and records (the last record per case and epoch)."""

    def __init__(
        self,
        manifest: Mapping[str, Any],
        records: Iterable[Record],
        *,
        path: Path | None = None,
    ) -> None:
        self.manifest = dict(manifest)
        latest: dict[tuple[str, int], Record] = {}
        for record in records:
            latest[record.key] = record
        self.records = sorted(latest.values(), key=lambda r: (r.case_id, r.epoch))
        self.path = path

    @property
    def name(self) -> str:
        """The eval's name."""
        return str(self.manifest.get("eval", "eval"))

    @property
    def arm(self) -> str:
        """Which route or model was under test."""
        return str(self.manifest.get("arm", "?"))

    def cases(self) -> dict[str, CaseStats]:
        """Per-case statistics, keyed by case id."""
        grouped: dict[str, list[Record]] = defaultdict(list)
        for r in self.records:
            grouped[r.case_id].append(r)
        out = {}
        for case_id, rs in grouped.items():
            graded = [r for r in rs if not r.errored]
            first = rs[0]
            out[case_id] = CaseStats(
                case_id=case_id,
                case_hash=first.case_hash,
                tags=first.tags,
                critical=first.critical,
                passes=tuple(bool(r.passed) for r in graded),
                scores=tuple(
                    r.score if r.score is not None else float(bool(r.passed)) for r in graded
                ),
                errors=len(rs) - len(graded),
            )
        return out

    @property
    def error_rate(self) -> float:
        """Share of (case, epoch) records that errored."""
        return sum(r.errored for r in self.records) / len(self.records) if self.records else 0.0

    @property
    def complete(self) -> bool:
        """Whether every planned (case, epoch) has a record."""
        planned = int(self.manifest.get("cases", 0)) * int(self.manifest.get("epochs", 1))
        return len(self.records) >= planned

    @property
    def harness_failed(self) -> bool:
        """Whether errors exceeded the eval's error budget (or the run is incomplete)."""
        budget = float(self.manifest.get("max_error_rate", 0.1))
        return not self.complete or self.error_rate > budget

    def summary(self) -> dict[str, Any]:
        """Pass rate, errors, cost, tokens, cache hits and latency for this run."""
        return arm_stats(self.records) | {
            "eval": self.name,
            "arm": self.arm,
            "model": self.manifest.get("model"),
            "epochs": self.manifest.get("epochs"),
            "complete": self.complete,
            "harness_failed": self.harness_failed,
            "pass_rate": _mean(
                [c.pass_rate for c in self.cases().values() if c.pass_rate is not None]
            ),
            "mean_score": _mean(
                [c.mean_score for c in self.cases().values() if c.mean_score is not None]
            ),
        }

    def to_markdown(self) -> str:
        """A Markdown summary (for a CI step summary)."""
        from ._report_text import run_markdown

        return run_markdown(self)

    def to_text(self) -> str:
        """A plain-text summary table for the terminal."""
        from ._report_text import run_text

        return run_text(self)

    def _repr_html_(self) -> str:
        from ._report_html import run_html

        return run_html(self, full_page=False)

    def __repr__(self) -> str:
        s = self.summary()
        rate = "n/a" if s["pass_rate"] is None else f"{s['pass_rate']:.1%}"
        return (
            f"<Run {self.name!r} arm={self.arm!r} cases={s['cases']} "
            f"pass_rate={rate} errors={s['errors']}>"
        )


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def arm_stats(records: Sequence[Record]) -> dict[str, Any]:
    """Counts, spend, tokens, cache hits, latency and retries over some records."""
    n = len(records)
    case_ids = {r.case_id for r in records}
    tokens: dict[str, int] = defaultdict(int)
    for r in records:
        for k, v in r.usage.items():
            tokens[k] += int(v)
    latencies = sorted(r.latency_ms for r in records if not r.errored)
    spent = sum((r.cost(equivalent=False) for r in records), Decimal(0))
    equiv = sum((r.cost() for r in records), Decimal(0))
    judge = sum((r.judge_cost() for r in records), Decimal(0))
    per_case = equiv / len(case_ids) if case_ids else Decimal(0)
    return {
        "cases": len(case_ids),
        "records": n,
        "passed": sum(r.passed is True for r in records),
        "failed": sum(r.passed is False for r in records),
        "errors": sum(r.errored for r in records),
        "cost_usd": str(spent),
        "cost_equiv_usd": str(equiv),
        "cost_per_case_usd": str(per_case.quantize(Decimal("0.000001"))) if case_ids else "0",
        "judge_cost_usd": str(judge),
        "tokens": dict(tokens),
        "cache_hit_ratio": sum(r.from_cache for r in records) / n if n else 0.0,
        "latency_p50_ms": percentile(latencies, 0.5) if latencies else None,
        "latency_p95_ms": percentile(latencies, 0.95) if latencies else None,
        "retries": sum(r.retries for r in records),
    }


def load_run(path: str | Path) -> Run:
    """Read a run directory (or its ``results.jsonl``) written by ``thinllm eval run``."""
    p = Path(path)
    if p.is_file():
        p = p.parent
    manifest_path = p / MANIFEST
    if not manifest_path.exists():
        from thinllm.errors import ConfigurationError

        raise ConfigurationError(f"{p} is not an eval run directory (no {MANIFEST})")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return Run(manifest, read_records(p / RESULTS), path=p)


def write_summary(run: Run) -> None:
    """Write ``summary.json`` next to the results."""
    if run.path is not None:
        text = json.dumps(run.summary(), indent=2, default=str)
        (run.path / SUMMARY).write_text(text + "\n", encoding="utf-8")


def git_info(cwd: Path | None = None) -> dict[str, Any]:
    """The current git commit and whether the work tree has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    if commit.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}


def thinllm_version() -> str:
    """The installed thinllm version, or ``"unknown"`` when running from a source tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("thinllm")
    except PackageNotFoundError:
        return "unknown"
