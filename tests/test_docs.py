"""Documentation snippets run: every ```python block in docs/*.md, in order, per page.

Blocks fenced as ```py are illustrative (they need real keys or servers) and are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

#: Pages whose snippets have a dedicated runner next to the feature's own tests.
OWN_RUNNER = {"evals.md", "testing.md"}
DOCS = sorted(
    p for p in (Path(__file__).resolve().parent.parent / "docs").glob("*.md") if p.name not in OWN_RUNNER
)
FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", DOCS, ids=[p.name for p in DOCS])
def test_page_snippets_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader who pastes a page's snippets in order gets no error."""
    blocks = FENCE.findall(page.read_text())
    if not blocks:
        pytest.skip(f"{page.name} has no runnable snippets")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(blocks, 1):
        try:
            exec(compile(block, f"{page.name}[block {number}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - the message is what matters
            raise AssertionError(f"{page.name} block {number} failed: {exc!r}\n{block}") from exc
    close = getattr(namespace.get("client"), "close", None)
    if callable(close):
        close()
