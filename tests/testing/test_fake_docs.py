"""The snippets in docs/testing.md run, in order, so the user guide cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"


class TestDocs:
    def test_snippets_run(self) -> None:
        """Every python block in docs/testing.md executes without error (shared namespace)."""
        blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
        assert len(blocks) > 5
        namespace: dict[str, object] = {"__name__": "docs_testing"}
        for number, block in enumerate(blocks, start=1):
            code = compile(block, f"{DOC.name} block {number}", "exec")
            exec(code, namespace)
