"""Every example and the demo run offline, as the README promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: Path, tmp_path: Path) -> None:
    """Each examples/*.py runs to completion offline and prints something."""
    result = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip()


def test_demo_shows_request_cache_hit_cost_and_audit_location(tmp_path: Path) -> None:
    """thinllm demo prints the request, the cache hit on the second call, cost and the audit store."""
    db = tmp_path / "demo.db"
    result = subprocess.run(
        [sys.executable, "-m", "thinllm", "demo", "--db", str(db)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert '"cache_control"' in out
    assert "cache read 0" in out  # first call writes the cache
    assert "outcome=rerouted" in out and "outcome=disabled" in out
    assert "[EMAIL_1]" in out and "jane.doe@example.com" not in out.split("the vendor received")[1]
    assert str(db) in out and db.exists()
    second = out.split("3. Second call")[1].split("\n4.")[0]
    assert "cache read 0" not in second


def test_demo_real_mode_needs_keys(tmp_path: Path) -> None:
    """--real without API keys explains what is missing instead of failing obscurely."""
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "thinllm", "demo", "--real", "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 2
    assert "ANTHROPIC_API_KEY" in result.stdout
