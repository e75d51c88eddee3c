"""docs/costs.md's measured example is what examples/cost_cache.py prints."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "costs.md"
EXAMPLE = ROOT / "examples" / "cost_cache.py"


class TestMeasuredExample:
    def test_doc_shows_the_rows_the_example_prints(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        """Every line the example prints for Anthropic appears verbatim in the doc's measured example."""
        monkeypatch.setenv("THINLLM_STATE_DIR", str(tmp_path))  # restored after the example sets it
        monkeypatch.setattr(sys, "argv", [str(EXAMPLE), "anthropic"])
        runpy.run_path(str(EXAMPLE), run_name="__main__")
        printed = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
        section = DOC.read_text(encoding="utf-8").split("## Measured example", 1)[1]
        assert len(printed) >= 6
        missing = [line for line in printed if line not in section]
        assert [] == missing
