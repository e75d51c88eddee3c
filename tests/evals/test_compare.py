"""compare(): pairing, transitions, the verdict and exit codes on synthetic runs."""

from __future__ import annotations

from _evals_helpers import make_run, uniform

from thinllm.evals import compare

T, F = True, False


def with_flips(n: int, flips: int, *, epochs: int = 3) -> tuple[dict, dict]:
    base = uniform(n, [T] * epochs)
    cand = dict(base)
    for i in range(flips):
        cand[f"c{i:03d}"] = [F] * epochs
    return base, cand


class TestVerdict:
    def test_planted_regression_is_caught(self) -> None:
        """12 of 100 stable cases flipping to fail is a regression, with exit code 1."""
        base, cand = with_flips(100, 12)
        result = compare(make_run(base), make_run(cand, arm="cand"))
        assert "regression" == result.verdict
        assert 1 == result.exit_code()
        assert result.p_value < 0.001
        assert -0.12 == round(result.delta, 6)
        assert 12 == result.transitions["pass->fail"]
        assert 12 == len(result.regressions)

    def test_identical_runs_pass(self) -> None:
        """No change is a pass with exit code 0."""
        base, _ = with_flips(50, 0)
        result = compare(make_run(base), make_run(base, arm="cand"))
        assert "pass" == result.verdict
        assert 0 == result.exit_code()

    def test_tiny_set_is_inconclusive(self) -> None:
        """One flip among 5 cases is not evidence, but it could hide a big drop: inconclusive,
        with how much worse it could be and how many cases would settle it."""
        base, cand = with_flips(5, 1, epochs=1)
        result = compare(make_run(base), make_run(cand, arm="cand"))
        assert "inconclusive" == result.verdict
        assert 2 == result.exit_code()
        assert 0 == result.exit_code(inconclusive=0)
        assert result.worst_case > 0.02
        assert result.needed_cases is not None and result.needed_cases > 5
        assert "could be up to" in result.reasons[0]

    def test_critical_case_newly_failing_blocks_alone(self) -> None:
        """A critical case failing in most epochs is a regression even when the statistics are quiet."""
        base = uniform(200, [T, T, T])
        cand = dict(base) | {"c007": [F, F, T]}
        result = compare(
            make_run(base, critical=["c007"]), make_run(cand, arm="c", critical=["c007"])
        )
        assert "regression" == result.verdict
        assert ["c007"] == result.critical_failures
        assert "critical" in result.reasons[0]

    def test_critical_case_that_already_failed_is_not_new(self) -> None:
        """A critical case failing in both runs does not block (it is not a new failure)."""
        base = uniform(200, [T, T, T]) | {"c007": [F, F, F]}
        result = compare(
            make_run(base, critical=["c007"]), make_run(base, arm="c", critical=["c007"])
        )
        assert "pass" == result.verdict

    def test_significant_but_below_margin_passes(self) -> None:
        """A real but tiny drop (below the margin) passes, and the reason says so."""
        base, cand = with_flips(1000, 12)
        result = compare(make_run(base), make_run(cand, arm="c"), margin=0.02, resamples=500)
        assert "pass" == result.verdict
        assert "smaller than the 2-point margin" in result.reasons[0]

    def test_noninferiority_needs_the_whole_interval_above_the_margin(self) -> None:
        """In rotation mode a small significant drop whose interval reaches past the margin
        is not shown non-inferior, though the regression gate lets it pass."""
        base, cand = with_flips(300, 5, epochs=1)
        regression_gate = compare(make_run(base), make_run(cand, arm="c"))
        rotation_gate = compare(make_run(base), make_run(cand, arm="c"), noninferiority=True)
        assert "pass" == regression_gate.verdict
        assert regression_gate.ci[0] < -0.02
        assert "inconclusive" == rotation_gate.verdict
        big, _ = with_flips(400, 0)
        assert "pass" == compare(make_run(big), make_run(big, arm="c"), noninferiority=True).verdict


class TestPairing:
    def test_unstable_baseline_cases_are_not_listed_as_regressions(self) -> None:
        """A case whose baseline epochs disagree is marked unstable, not blamed individually."""
        base = uniform(20, [T, T, T]) | {"flaky": [T, F, T]}
        cand = uniform(20, [T, T, T]) | {"flaky": [F, F, F]}
        result = compare(make_run(base), make_run(cand, arm="c"))
        assert 1 == result.transitions["unstable"]
        assert [] == result.regressions

    def test_added_removed_and_edited_are_listed_apart(self) -> None:
        """Only cases with the same id and hash are paired; the rest are listed by kind."""
        base = {"same": [T], "gone": [T], "edited": [T]}
        cand = {"same": [T], "new": [F], "edited": [F]}
        result = compare(make_run(base), make_run(cand, arm="c", hashes={"edited": "changed"}))
        assert (["new"], ["gone"], ["edited"]) == (result.added, result.removed, result.edited)
        assert 1 == result.n

    def test_errors_are_counted_apart_from_failures(self) -> None:
        """A case whose candidate epochs all errored is an error, not a failure, and is not paired."""
        base = uniform(10, [T, T])
        cand = dict(base) | {"c000": [None, None]}
        result = compare(make_run(base), make_run(cand, arm="c"))
        assert 1 == result.transitions["error"]
        assert 9 == result.n
        assert 2 == result.arms["candidate"]["errors"]
        assert 0 == result.arms["candidate"]["failed"]

    def test_too_many_errors_is_a_harness_error(self) -> None:
        """When errors exceed the budget the exit code is 3, whatever the verdict."""
        base = uniform(10, [T])
        cand = {k: [None] for k in base}
        result = compare(make_run(base), make_run(cand, arm="c"))
        assert result.harness_error
        assert 3 == result.exit_code()

    def test_per_tag_slices_and_guardrails(self) -> None:
        """Per-tag slices carry Holm-adjusted p-values; a cost rise beyond its margin is flagged."""
        base, cand = with_flips(40, 8)
        tags = {f"c{i:03d}": ["hard"] if i < 10 else ["easy"] for i in range(40)}
        result = compare(
            make_run(base, tags=tags), make_run(cand, arm="c", tags=tags, cost="0.002")
        )
        hard = next(s for s in result.slices if s.tag == "hard")
        assert 10 == hard.n
        assert hard.p_adjusted >= hard.p_value
        cost = next(g for g in result.guardrails if g["name"].startswith("cost"))
        assert cost["exceeded"]
        assert 1.0 == cost["change"]

    def test_to_dict_is_json_serialisable(self) -> None:
        """The comparison's dict form can be written as JSON (comparison.json)."""
        import json

        base, cand = with_flips(10, 2)
        data = compare(make_run(base), make_run(cand, arm="c")).to_dict()
        assert json.loads(json.dumps(data, default=str))["verdict"] in {
            "pass",
            "regression",
            "inconclusive",
        }
