"""Every Python snippet in docs/evals.md runs (so the docs cannot rot)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "evals.md"


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


class TestEvalsDoc:
    def test_python_snippets_run(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """The documented Python examples run as written, offline, in order."""
        shutil.copytree(ROOT / "examples" / "evals", tmp_path / "examples" / "evals")
        monkeypatch.chdir(tmp_path)
        assert len(snippets()) >= 4
        for code in snippets():
            exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_snippet__"})
