"""The statistics behind the gate: exact paired test, bootstrap interval, power, and the
false-alarm rate of the whole verdict rule under no change (a seeded test of the test)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from thinllm.evals._compare import _verdict
from thinllm.evals._stats import bootstrap_ci, detectable_drop, holm, needed, sign_flip_p


def mcnemar_one_sided(worse: int, better: int) -> float:
    """P(X <= better) for X ~ Binomial(worse + better, 1/2): exact McNemar, one-sided."""
    n = worse + better
    return sum(math.comb(n, i) for i in range(better + 1)) / 2**n


def brute_force(diffs: list[float]) -> float:
    observed = sum(diffs)
    signs = list(itertools.product((1, -1), repeat=len(diffs)))
    return sum(
        sum(s * d for s, d in zip(sign, diffs, strict=True)) <= observed + 1e-12 for sign in signs
    ) / len(signs)


class TestSignFlip:
    @pytest.mark.parametrize(("worse", "better"), [(5, 0), (8, 2), (10, 10), (30, 12), (0, 4)])
    def test_reduces_to_exact_mcnemar_for_one_epoch(self, worse: int, better: int) -> None:
        """With one epoch and pass/fail grades the p-value is exact McNemar's."""
        diffs = [-1.0] * worse + [1.0] * better + [0.0] * 50
        p, exact = sign_flip_p(diffs)
        assert exact
        assert mcnemar_one_sided(worse, better) == pytest.approx(p, rel=1e-9)

    def test_exact_for_epoch_fractions(self) -> None:
        """Differences of pass rates over 3 epochs are enumerated exactly."""
        diffs = [-2 / 3, -1 / 3, 1 / 3, -1.0, 2 / 3, -1 / 3, 0.0, -1 / 3]
        p, exact = sign_flip_p(diffs)
        assert exact
        assert brute_force(diffs) == pytest.approx(p, rel=1e-9)

    def test_continuous_scores_are_sampled_close_to_exact(self) -> None:
        """Continuous score differences use a seeded Monte Carlo estimate near the exact value."""
        rng = random.Random(3)
        diffs = [rng.uniform(-0.9, 0.5) for _ in range(12)]
        p, exact = sign_flip_p(diffs, resamples=20_000)
        assert not exact
        assert brute_force(diffs) == pytest.approx(p, abs=0.01)

    def test_no_change_is_p_one(self) -> None:
        """Identical runs give p = 1, never a significant result."""
        assert (1.0, True) == sign_flip_p([0.0] * 20)


class TestBootstrap:
    def test_seeded_and_brackets_the_mean(self) -> None:
        """The interval is reproducible with a seed and contains the observed mean."""
        diffs = [-1.0] * 6 + [1.0] * 2 + [0.0] * 40
        lo, hi = bootstrap_ci(diffs, seed=1)
        assert (lo, hi) == bootstrap_ci(diffs, seed=1)
        assert lo < sum(diffs) / len(diffs) < hi

    def test_constant_differences(self) -> None:
        """When every case moved the same way the interval is that value."""
        assert (-1.0, -1.0) == bootstrap_ci([-1.0, -1.0])


class TestPower:
    def test_detectable_drop_matches_the_rule_of_thumb(self) -> None:
        """100 cases with 10% discordant pairs detect about an 8-point drop (2.49·√(d/n))."""
        assert 0.079 == pytest.approx(detectable_drop(math.sqrt(0.1), 100), abs=0.001)

    def test_needed_cases_and_epochs(self) -> None:
        """More epochs help only with the within-case noise; pure between-case spread needs cases."""
        cases, epochs = needed(drop=0.05, n=100, epochs=1, between_var=0.01, within_var=0.2)
        assert cases is not None and cases > 100
        assert epochs is not None and epochs > 1
        _, no_epochs = needed(drop=0.01, n=100, epochs=1, between_var=0.05, within_var=0.01)
        assert no_epochs is None

    def test_holm_is_monotone_and_capped(self) -> None:
        """Holm adjustment never lowers a p-value and never exceeds 1."""
        adjusted = holm([0.01, 0.04, 0.03, 0.5])
        assert [0.04, 0.09, 0.09, 0.5] == pytest.approx(adjusted)


def simulate(rng: random.Random, n: int, k: int, drop: float, share: float) -> list[float]:
    """Per-case differences of pass rates: 75% stable cases, 25% flaky; ``drop`` (points)
    falls on ``share`` of the cases in the candidate."""
    diffs = []
    for i in range(n):
        p = rng.choice((0.03, 0.97)) if rng.random() < 0.75 else rng.uniform(0.2, 0.8)
        q = max(0.0, p - drop / share) if i < n * share else p
        b = sum(rng.random() < p for _ in range(k)) / k
        c = sum(rng.random() < q for _ in range(k)) / k
        diffs.append(c - b)
    return diffs


def gate(diffs: list[float]) -> str:
    p, _ = sign_flip_p(diffs)
    ci = bootstrap_ci(diffs, resamples=200, seed=0)
    verdict, _ = _verdict(
        n=len(diffs),
        delta=sum(diffs) / len(diffs),
        p=p,
        ci=ci,
        alpha=0.05,
        margin=0.02,
        noninferiority=False,
        critical=(),
    )
    return verdict


class TestGateCalibration:
    def test_false_alarm_rate_under_no_change(self) -> None:
        """Over 400 seeded simulated runs with no true change, the gate cries regression
        at most 5% of the time (plus binomial slack): noise does not block deploys."""
        rng = random.Random(20260828)
        runs = 400
        alarms = sum(gate(simulate(rng, 100, 3, 0.0, 0.3)) == "regression" for _ in range(runs))
        slack = 3 * math.sqrt(0.05 * 0.95 / runs)
        assert alarms / runs <= 0.05 + slack

    def test_power_against_a_real_drop(self) -> None:
        """A true 10-point drop on 200 cases x 3 epochs is caught in most simulated runs."""
        rng = random.Random(7)
        caught = sum(gate(simulate(rng, 200, 3, 0.10, 0.3)) == "regression" for _ in range(60))
        assert caught / 60 >= 0.85
