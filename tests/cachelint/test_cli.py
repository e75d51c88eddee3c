"""The `thinllm cache lint FILE.py[:NAME]` command."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from thinllm.cli import main

if TYPE_CHECKING:
    from pathlib import Path

SOURCE = """
import datetime
from thinllm._prompt import Prompt, user

POLICY = "Refunds are accepted within thirty days of delivery for damaged goods. " * 80
PROMPT = Prompt(POLICY, messages=[user("hi")])
BUSTED = Prompt("Request 3f2b8c4e-1a2b-4c3d-9e8f-0a1b2c3d4e5f. " + POLICY, messages=[user("hi")])
NOT_A_PROMPT = 42

def build():
    return Prompt("Short.", messages=[user("hi")])

if __name__ == "__main__":
    raise SystemExit("the lint must not run the main block")
"""


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.py"
    path.write_text(SOURCE)
    return path


class TestCacheLintCommand:
    def test_clean_prompt_exits_zero(
        self, prompts: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A cache-friendly PROMPT (the default name) passes, so CI stays green."""
        assert main(["cache", "lint", str(prompts), "--model", "claude-sonnet-5"]) == 0
        assert "no caching problems" in capsys.readouterr().out

    def test_warnings_exit_one(self, prompts: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A cache-busting prompt fails the command and prints where the problem is."""
        assert main(["cache", "lint", f"{prompts}:BUSTED"]) == 1
        out = capsys.readouterr().out
        assert f"{prompts}:BUSTED: system: uuid:" in out

    def test_a_factory_function_works(self, prompts: Path) -> None:
        """NAME may be a function that builds the prompt the way the app does."""
        assert main(["cache", "lint", f"{prompts}:build", "--model", "gpt-6-sol"]) == 1

    def test_ignore_and_json(self, prompts: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """--json prints machine-readable warnings; --ignore drops a code."""
        assert main(["cache", "lint", f"{prompts}:build", "--json"]) == 1
        data = json.loads(capsys.readouterr().out)
        assert [{"code": d["code"], "where": d["where"]} for d in data] == [
            {"code": "short-prefix", "where": "prompt"}
        ]
        assert main(["cache", "lint", f"{prompts}:build", "--ignore", "short-prefix"]) == 0

    @pytest.mark.parametrize(
        ("suffix", "message"),
        [
            pytest.param(":MISSING", "defines no 'MISSING'", id="missing-name"),
            pytest.param(":NOT_A_PROMPT", "not a thinllm.Prompt", id="wrong-type"),
        ],
    )
    def test_load_errors_exit_two(
        self, prompts: Path, capsys: pytest.CaptureFixture[str], suffix: str, message: str
    ) -> None:
        """A target that is not a prompt is a usage error (2), distinct from warnings (1)."""
        assert main(["cache", "lint", f"{prompts}{suffix}"]) == 2
        assert message in capsys.readouterr().err

    def test_missing_file_and_broken_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A missing or crashing file is reported, not a traceback."""
        assert main(["cache", "lint", str(tmp_path / "nope.py")]) == 2
        broken = tmp_path / "broken.py"
        broken.write_text("raise RuntimeError('boom')\n")
        assert main(["cache", "lint", str(broken)]) == 2
        err = capsys.readouterr().err
        assert "no such file" in err
        assert "RuntimeError: boom" in err
