"""The runner: records per case and epoch, caching, resume after a crash, errors apart
from failures, timeouts and the concurrency limit (no model needed: a function target)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from thinllm import Prompt
from thinllm.errors import ConfigurationError
from thinllm.evals import (
    Case,
    Check,
    Eval,
    EvalCache,
    Exact,
    FunctionTarget,
    Generation,
    arun,
    load_run,
    run,
)
from thinllm.evals._grading import Output

CASES = [{"id": f"q{i}", "input": f"say {i}", "expected": str(i)} for i in range(6)]


class Echo:
    """A system under test that answers the number in the prompt; counts its calls."""

    def __init__(self, wrong: set[str] = frozenset(), fail: set[str] = frozenset()) -> None:
        self.calls = 0
        self.wrong, self.fail = wrong, fail

    def __call__(self, prompt: Prompt) -> Generation:
        self.calls += 1
        text = prompt.messages[-1].text
        if text in self.fail:
            raise RuntimeError("vendor exploded")
        answer = "nope" if text in self.wrong else text.split()[-1]
        return Generation(
            answer, {"input_tokens": 3, "output_tokens": 1}, cost=None, latency_ms=5.0
        )


def make_eval(target: object, **kw: object) -> Eval:
    return Eval(
        "echo", cases=CASES, graders=[Exact()], target=FunctionTarget(target, name="echo"), **kw
    )  # type: ignore[arg-type]


class TestRun:
    def test_one_record_per_case_and_epoch(self, tmp_path: Path) -> None:
        """Every case runs once per epoch; passes, failures and tokens are recorded."""
        echo = Echo(wrong={"say 1"})
        result = run(make_eval(echo), out=tmp_path / "r", epochs=2)
        assert 12 == len(result.records) == echo.calls
        assert {("q1", 0), ("q1", 1)} == {r.key for r in result.records if not r.passed}
        assert 3 == result.records[0].usage["input_tokens"]
        assert 5 / 6 == pytest.approx(result.summary()["pass_rate"])
        files = sorted(p.name for p in (tmp_path / "r").iterdir())
        assert ["manifest.json", "results.jsonl", "summary.json"] == files

    def test_manifest_describes_the_run(self, tmp_path: Path) -> None:
        """The manifest records dataset, prompt and grader hashes, epochs and the version."""
        run(make_eval(Echo(), options={"max_tokens": 5}), out=tmp_path / "r")
        manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
        for key in ("git", "dataset_hash", "prompt_hash", "graders", "params", "thinllm_version"):
            assert key in manifest
        assert {"max_tokens": 5} == manifest["params"]
        assert "exact" == manifest["graders"][0]["name"]

    def test_errors_are_recorded_apart_from_failures(self, tmp_path: Path) -> None:
        """A system that raises gives an error record (passed None), not a failed case."""
        result = run(make_eval(Echo(fail={"say 2"})), out=tmp_path / "r")
        errored = [r for r in result.records if r.errored]
        assert ["q2"] == [r.case_id for r in errored]
        assert errored[0].passed is None
        assert "vendor exploded" in errored[0].error["message"]  # type: ignore[index]
        assert result.harness_failed  # 1 of 6 is above the 10% error budget

    def test_timeout_is_an_error(self) -> None:
        """A case that does not answer within the timeout errors with type 'timeout'."""

        async def never(prompt: Prompt) -> str:
            await asyncio.Event().wait()
            return ""

        result = run(make_eval(never, timeout=0.001))
        assert {"timeout"} == {r.error["type"] for r in result.records if r.error}

    def test_grader_bug_is_a_grader_error(self) -> None:
        """A grader that raises records a grader_error naming the grader."""

        def broken(output: Output, case: Case) -> bool:
            raise KeyError("oops")

        ev = Eval("e", cases=CASES[:1], graders=[Check(broken)], target=FunctionTarget(Echo()))
        (record,) = run(ev).records
        assert "grader_error" == record.error["type"]  # type: ignore[index]
        assert "broken" in record.error["message"]  # type: ignore[index]

    def test_concurrency_is_bounded(self) -> None:
        """No more than `concurrency` cases are in flight at once."""
        state = {"now": 0, "peak": 0}

        async def tracked(prompt: Prompt) -> str:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
            for _ in range(3):
                await asyncio.sleep(0)
            state["now"] -= 1
            return "x"

        run(make_eval(tracked, concurrency=2), epochs=3)
        assert 2 == state["peak"]

    def test_prompt_function_errors_name_the_case(self) -> None:
        """A prompt function that fails is a configuration error naming the case."""

        def bad(case: Case) -> Prompt:
            raise ValueError("no such field")

        with pytest.raises(ConfigurationError, match="case 'q0'"):
            run(make_eval(Echo(), prompt=bad))


class TestCache:
    def test_unchanged_rerun_is_served_from_cache(self, tmp_path: Path) -> None:
        """A second run with the same cases and model makes no calls and costs nothing."""
        echo = Echo()
        with EvalCache(tmp_path / "c.sqlite") as cache:
            run(make_eval(echo), out=tmp_path / "a", epochs=2, cache=cache)
            first = echo.calls
            again = run(make_eval(echo), out=tmp_path / "b", epochs=2, cache=cache)
        assert 12 == first == echo.calls
        assert all(r.from_cache for r in again.records)
        assert 1.0 == again.summary()["cache_hit_ratio"]

    def test_epochs_are_independent_samples(self, tmp_path: Path) -> None:
        """The epoch is in the cache key: epoch 1 is not a copy of epoch 0."""
        echo = Echo()
        with EvalCache(tmp_path / "c.sqlite") as cache:
            run(make_eval(echo), epochs=1, cache=cache)
            run(make_eval(echo), epochs=3, cache=cache)
        assert 6 * 3 == echo.calls

    def test_no_cache_makes_fresh_calls(self, tmp_path: Path) -> None:
        """--no-cache (read=False) calls the system again."""
        echo = Echo()
        with EvalCache(tmp_path / "c.sqlite") as cache:
            run(make_eval(echo), cache=cache)
        with EvalCache(tmp_path / "c.sqlite", read=False) as cache:
            run(make_eval(echo), cache=cache)
        assert 12 == echo.calls

    def test_cacheable_grader_is_not_rerun(self, tmp_path: Path) -> None:
        """A cacheable grader (like an LLM judge) grades an unchanged output once."""
        graded: list[str] = []

        def judge(output: Output, case: Case) -> bool:
            graded.append(case.id)
            return True

        ev = Eval(
            "e", cases=CASES, graders=[Check(judge, cacheable=True)], target=FunctionTarget(Echo())
        )
        with EvalCache(tmp_path / "c.sqlite") as cache:
            run(ev, cache=cache)
            second = run(ev, cache=cache)
        assert 6 == len(graded)
        assert all(r.grades[0].from_cache for r in second.records)

    def test_errors_are_not_cached(self, tmp_path: Path) -> None:
        """A failed call is retried on the next run rather than replayed from the cache."""
        echo = Echo(fail={"say 0"})
        with EvalCache(tmp_path / "c.sqlite") as cache:
            run(make_eval(echo), cache=cache)
            run(make_eval(echo), cache=cache)
        assert 6 + 1 == echo.calls


class TestResume:
    def test_crashed_run_resumes_where_it_stopped(self, tmp_path: Path) -> None:
        """After a crash (torn last line, missing records) the rerun only does what is missing."""
        out = tmp_path / "r"
        run(make_eval(Echo()), out=out, epochs=2)
        results = out / "results.jsonl"
        lines = results.read_text().splitlines(keepends=True)
        results.write_text("".join(lines[:5]) + lines[5][:40])  # 5 complete + a torn line
        echo = Echo()
        resumed = run(make_eval(echo), out=out, epochs=2)
        assert 12 - 5 == echo.calls
        assert 12 == len(resumed.records)
        assert 12 == len(load_run(out).records)

    def test_errored_records_are_retried_on_resume(self, tmp_path: Path) -> None:
        """Errors from an earlier attempt are retried, and the new result wins."""
        out = tmp_path / "r"
        run(make_eval(Echo(fail={"say 3"})), out=out)
        echo = Echo()
        resumed = run(make_eval(echo), out=out)
        assert 1 == echo.calls
        assert not any(r.errored for r in resumed.records)
        assert not load_run(out).harness_failed

    def test_a_different_configuration_is_refused(self, tmp_path: Path) -> None:
        """Resuming into a directory of another configuration fails instead of mixing runs."""
        out = tmp_path / "r"
        run(make_eval(Echo()), out=out)
        with pytest.raises(ConfigurationError, match="different eval configuration"):
            run(make_eval(Echo(), options={"max_tokens": 3}), out=out)

    def test_async_api(self) -> None:
        """arun works inside a running event loop."""
        result = asyncio.run(arun(make_eval(Echo())))
        assert 6 == len(result.records)
