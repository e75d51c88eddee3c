"""End to end through thinllm.Client and the fake vendor (real SDK HTTP stack, in process):
a planted regression fires the gate from the command line; bless, compare, rotate;
judges, retries and the pytest helper."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import thinllm
from thinllm.cli import main
from thinllm.evals import (
    Eval,
    EvalAssertionError,
    Exact,
    Judge,
    ToolCallMatch,
    assert_eval,
    compare,
    run,
)
from thinllm.evals.pytest_plugin import thinllm_eval  # noqa: F401 - the fixture under test
from thinllm.testing import FakeReply, FakeRequest, FakeVendor, Fault

EXAMPLE = Path(__file__).parents[2] / "examples" / "evals" / "triage_eval.py"

SPEC = """
import thinllm
from thinllm.evals import Eval, Exact
from thinllm.testing import FakeVendor

fake = FakeVendor()


def answer(request):
    n = int(request.text.split()[-1])
    # The candidate model answers wrong on a quarter of the cases: a planted regression.
    if request.model == "claude-haiku-4-5" and n % 4 == 0:
        return "wrong"
    return str(n)


fake.reply(answer)
EVAL = Eval(
    "numbers",
    cases="cases.jsonl",
    graders=[Exact()],
    routes=[
        thinllm.Route(fake.async_anthropic(), model="claude-sonnet-5-5"),
        thinllm.Route(fake.async_anthropic(), model="claude-haiku-4-5"),
    ],
    options={"max_tokens": 16},
    epochs=2,
)
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    cases = "".join(
        json.dumps({"id": f"n{i:02d}", "input": f"repeat {i}", "expected": str(i)}) + "\n"
        for i in range(40)
    )
    (tmp_path / "cases.jsonl").write_text(cases)
    path = tmp_path / "numbers_eval.py"
    path.write_text(textwrap.dedent(SPEC))
    return path


def cli(*args: str | Path) -> int:
    return main(["eval", *map(str, args)])


class TestCommandLine:
    def test_planted_regression_fires_the_gate(self, spec: Path, tmp_path: Path) -> None:
        """Baseline on the good model, candidate on the worse one: exit 1 and every report written."""
        cache = tmp_path / "cache.sqlite"
        assert 0 == cli("run", spec, "--out", tmp_path / "base", "--cache", cache)
        assert 0 == cli("bless", tmp_path / "base", "--to", tmp_path / "baseline")
        code = cli(
            "run", spec, "--out", tmp_path / "cand", "--arm", "claude-haiku-4-5",
            "--baseline", tmp_path / "baseline", "--cache", cache,
            "--junit", tmp_path / "j.xml", "--markdown", tmp_path / "m.md", "--html", tmp_path / "r.html",
        )  # fmt: skip
        assert 1 == code
        saved = json.loads((tmp_path / "cand" / "comparison.json").read_text())
        assert "regression" == saved["verdict"]
        assert 10 == saved["transitions"]["pass->fail"]
        suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
        assert suite is not None and "10" == suite.get("failures")
        assert "regression" in (tmp_path / "m.md").read_text()
        assert "<!doctype html>" in (tmp_path / "r.html").read_text()

    def test_compare_and_unchanged_rerun_from_cache(self, spec: Path, tmp_path: Path) -> None:
        """Comparing a run with its own rerun passes, and the rerun is served from the cache."""
        cache = tmp_path / "cache.sqlite"
        assert 0 == cli("run", spec, "--out", tmp_path / "a", "--cache", cache)
        assert 0 == cli("run", spec, "--out", tmp_path / "b", "--cache", cache)
        summary = json.loads((tmp_path / "b" / "summary.json").read_text())
        assert 1.0 == summary["cache_hit_ratio"]
        assert "0" == summary["cost_usd"]
        assert 0 == cli("compare", tmp_path / "a", tmp_path / "b")

    def test_rotate_runs_both_models(
        self, spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """rotate runs both arms on the same cases and prints the verdict with cost and latency."""
        code = cli(
            "rotate", spec, "--from", "claude-sonnet-5-5", "--to", "claude-haiku-4-5",
            "--out", tmp_path / "rot", "--cache", tmp_path / "c.sqlite",
        )  # fmt: skip
        out = capsys.readouterr().out
        assert 1 == code
        assert "REGRESSION" in out
        assert "cost/case" in out and "p95 ms" in out
        assert (tmp_path / "rot" / "claude-haiku-4-5" / "results.jsonl").exists()

    def test_rotate_to_a_model_not_in_the_spec(self, spec: Path, tmp_path: Path) -> None:
        """--to may name a new model: it runs on a copy of the --from route."""
        code = cli(
            "rotate", spec, "--from", "claude-sonnet-5-5", "--to", "claude-opus-5-5",
            "--out", tmp_path / "rot", "--cache", tmp_path / "c.sqlite", "--epochs", "1",
        )  # fmt: skip
        assert code in (0, 2)  # equal answers: non-inferior, or too few cases to show it
        manifest = json.loads((tmp_path / "rot" / "claude-opus-5-5" / "manifest.json").read_text())
        assert "claude-opus-5-5" == manifest["model"]

    def test_harness_errors_exit_3(self, tmp_path: Path) -> None:
        """A broken spec is a harness error (3), never mistaken for a regression (1)."""
        bad = tmp_path / "bad.py"
        bad.write_text("EVAL = 1\n")
        assert 3 == cli("run", bad, "--out", tmp_path / "x")
        assert 3 == cli("run", tmp_path / "missing.py", "--out", tmp_path / "x")

    def test_bless_refuses_a_failed_run(self, tmp_path: Path) -> None:
        """An incomplete run is not blessed unless forced."""
        (tmp_path / "r").mkdir()
        (tmp_path / "r" / "manifest.json").write_text(
            json.dumps({"eval": "e", "cases": 3, "epochs": 1})
        )
        assert 3 == cli("bless", tmp_path / "r", "--to", tmp_path / "b")
        assert 0 == cli("bless", tmp_path / "r", "--to", tmp_path / "b", "--force")

    def test_example_spec_runs_offline(self, tmp_path: Path) -> None:
        """The example golden set and spec in examples/evals run against the fake vendor."""
        assert 0 == cli("run", EXAMPLE, "--out", tmp_path / "ex", "--cache", tmp_path / "c.sqlite")
        summary = json.loads((tmp_path / "ex" / "summary.json").read_text())
        assert 1.0 == summary["pass_rate"]
        assert 60 == summary["records"]


def fake_client(fake: FakeVendor, **kw: object) -> thinllm.Client:
    async def no_wait(seconds: float) -> None:
        return None

    route = thinllm.Route(fake.async_anthropic(), model="claude-sonnet-5-5")
    return thinllm.Client(routes=[route], asleep=no_wait, **kw)  # type: ignore[arg-type]


class TestThroughTheClient:
    def test_retries_are_recorded(self) -> None:
        """A retried call is recorded with its retry count and attempts, never silently."""
        fake = FakeVendor()
        fake.reply("1")
        fake.fail(Fault.server_error(500), times=1)
        client = fake_client(fake, retry=thinllm.Retry(attempts=3))
        ev = Eval("r", cases=[{"id": "a", "input": "x", "expected": "1"}], graders=[Exact()], client=client,
                  options={"max_tokens": 4})  # fmt: skip
        (record,) = run(ev).records
        assert record.passed
        assert 1 == record.retries
        assert [500, 200] == [a["status"] for a in record.attempts]

    def test_eval_calls_are_tagged(self) -> None:
        """Eval calls carry workflow=eval:<name> in their audit events."""
        fake = FakeVendor()
        sink = thinllm.sinks.MemorySink()
        client = fake_client(fake, sinks=[sink])
        ev = Eval("tagged", cases=[{"id": "a", "input": "x"}], graders=[Exact("y")], client=client,
                  options={"max_tokens": 4})  # fmt: skip
        run(ev)
        assert ["eval:tagged"] == [e.tags["workflow"] for e in sink.events]

    def test_judge_cost_is_recorded_apart(self) -> None:
        """An LLM judge grades through its own route; its tokens and cost are kept apart from
        the system under test's, and temperature is dropped where the API refuses it."""
        fake = FakeVendor()

        def vendor(request: FakeRequest) -> FakeReply:
            if request.model == "claude-haiku-4-5":
                good = "Paris" in request.text
                return FakeReply(
                    json.dumps({"reason": "checked", "label": "pass" if good else "fail"})
                )
            return FakeReply("Paris")

        fake.reply(vendor)
        judge = Judge(
            thinllm.Route(fake.anthropic(), model="claude-haiku-4-5"), "Is the capital right?"
        )
        ev = Eval("j", cases=[{"id": "fr", "input": "Capital of France?"}], graders=[judge],
                  client=fake_client(fake), options={"max_tokens": 8})  # fmt: skip
        (record,) = run(ev).records
        assert record.passed
        assert "pass: checked" == record.grades[0].reason
        assert record.judge_usage["input_tokens"] > 0
        assert record.judge_cost_usd is not None and float(record.judge_cost_usd) > 0
        assert record.cost_usd != record.judge_cost_usd
        assert "temperature" not in fake.requests[-1].body

    def test_tool_calls_reach_the_grader(self) -> None:
        """Tool calls from the vendor reply are graded by ToolCallMatch."""
        fake = FakeVendor()
        fake.reply(
            FakeReply(tool_calls=[{"name": "refund", "arguments": {"order": "A7", "full": True}}])
        )
        tool = thinllm.Tool("refund", "Refund an order", {"type": "object", "properties": {}})
        ev = Eval(
            "tools",
            cases=[
                {
                    "id": "a",
                    "input": "refund A7",
                    "expected": {"name": "refund", "arguments": {"order": "A7"}},
                }
            ],
            prompt=lambda case: thinllm.Prompt(messages=[case.input], tools=[tool]),
            graders=[ToolCallMatch()],
            client=fake_client(fake),
            options={"max_tokens": 16},
        )
        (record,) = run(ev).records
        assert record.passed
        assert "refund" == record.tool_calls[0]["name"]

    def test_sync_routes_run_in_threads(self) -> None:
        """A route holding a sync vendor client is evaluated too (calls run in worker threads)."""
        fake = FakeVendor()
        fake.reply("ok")
        route = thinllm.Route(fake.anthropic(), model="claude-sonnet-5-5")
        ev = Eval("sync", cases=[{"id": str(i), "input": "x", "expected": "ok"} for i in range(4)],
                  graders=[Exact()], routes=[route], options={"max_tokens": 4})  # fmt: skip
        result = run(ev)
        assert 1.0 == result.summary()["pass_rate"]


class TestPytestIntegration:
    def test_assert_eval_fails_on_regression(self, spec: Path, tmp_path: Path) -> None:
        """assert_eval raises with the report when the candidate regresses against the baseline."""
        base = run(_load(spec), out=tmp_path / "base")
        with pytest.raises(EvalAssertionError, match="REGRESSION"):
            assert_eval(_load(spec), baseline=base, arm="claude-haiku-4-5")

    def test_assert_eval_min_pass_rate(self, spec: Path) -> None:
        """assert_eval checks a minimum pass rate without a baseline."""
        assert_eval(spec, min_pass_rate=0.95, epochs=1)
        with pytest.raises(EvalAssertionError, match="below"):
            assert_eval(spec, min_pass_rate=0.95, epochs=1, arm="claude-haiku-4-5")

    def test_fixture_writes_under_tmp_path(self, spec: Path, thinllm_eval, tmp_path: Path) -> None:  # noqa: F811
        """The thinllm_eval fixture runs a spec and keeps the run in the test's tmp_path."""
        result = thinllm_eval(spec, epochs=1, min_pass_rate=0.9)
        assert result.path == tmp_path / "eval-run"

    def test_comparison_of_direct_runs(self, spec: Path) -> None:
        """compare() accepts Run objects from run() directly."""
        good = run(_load(spec), epochs=1)
        bad = run(_load(spec), epochs=1, arm="claude-haiku-4-5")
        assert "regression" == compare(good, bad).verdict


def _load(spec: Path) -> Eval:
    from thinllm.evals import load_spec

    return load_spec(spec)
