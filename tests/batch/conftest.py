"""Fixtures for batch tests: a fresh state folder, an injected clock, each vendor."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# Test modules import the helpers next to them by name (tests/ folders are not packages).
sys.path.insert(0, str(Path(__file__).parent))

_VENDORS = ["anthropic", "openai-chat", "openai-responses"]


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Batch records go to a fresh folder per test."""
    folder = tmp_path / "state"
    monkeypatch.setenv("THINLLM_STATE_DIR", str(folder))
    return folder / "batches"


@pytest.fixture
def clock() -> Any:
    """An injected clock and sleep (no real waiting)."""
    from _batch_helpers import FakeClock

    return FakeClock()


@pytest.fixture(params=_VENDORS)
def vendor(request: pytest.FixtureRequest) -> str:
    """Each batch wire format: Anthropic, OpenAI Chat Completions, OpenAI Responses."""
    return str(request.param)
