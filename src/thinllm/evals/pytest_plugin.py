"""A pytest plugin: the ``thinllm_eval`` fixture runs a golden set inside a test suite.

Enable it in a ``conftest.py``::

    pytest_plugins = ["thinllm.evals.pytest_plugin"]

    def test_triage_golden_set(thinllm_eval):
        thinllm_eval("evals/triage.py", min_pass_rate=0.9)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ._assert import assert_eval

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["thinllm_eval"]


@pytest.fixture
def thinllm_eval(tmp_path: Path) -> Callable[..., Any]:
    """``assert_eval`` with the run written under the test's temporary directory."""

    def check(eval_: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("out", tmp_path / "eval-run")
        return assert_eval(eval_, **kwargs)

    return check
