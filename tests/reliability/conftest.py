"""Fixtures for the reliability tests: a harness per call mode, closed after the test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The suite runs with --import-mode=importlib, which leaves sys.path alone; the test
# modules here share typed helpers from relkit.py (a uniquely named module).
sys.path.insert(0, str(Path(__file__).parent))

from relkit import MODES, Harness, Mode

from thinllm.testing import FakeVendor


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> Mode:
    """Every call mode: complete, acomplete, stream, astream."""
    value: Mode = request.param
    return value


@pytest.fixture
def harness(fake: FakeVendor, mode: Mode) -> Iterator[Harness]:
    """Governed clients over the shared fake vendor in ``mode``, on a fake clock."""
    h = Harness(fake, mode)
    yield h
    h.close()
