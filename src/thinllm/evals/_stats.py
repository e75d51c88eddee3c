"""Paired statistics for comparing two runs, in pure Python (seeded, no numpy).

- :func:`sign_flip_p`: one-sided paired sign-flip permutation test on per-case
  differences. When the differences sit on a grid (pass rates over k epochs always do)
  the null distribution is computed *exactly* by counting subset sums, for any number
  of cases; with one epoch and pass/fail grades this is the exact McNemar test.
  Continuous scores fall back to a seeded Monte Carlo estimate.
- :func:`bootstrap_ci`: a percentile confidence interval from resampling whole cases.
- :func:`detectable_drop` and :func:`needed`: the power arithmetic the reports quote.
"""

from __future__ import annotations

import math
import random
import statistics
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "bootstrap_ci",
    "detectable_drop",
    "holm",
    "needed",
    "percentile",
    "sign_flip_p",
]

#: Grid scales tried for exact enumeration: a pass rate over k <= 10 epochs, and the
#: difference of two, is a multiple of 1/lcm(1..k).
_GRIDS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 20, 24, 30, 60, 120, 360, 840, 2520)
#: Above this many DP steps the exact method is slower than sampling.
_EXACT_BUDGET = 20_000_000


def sign_flip_p(
    diffs: Sequence[float], *, seed: int = 0, resamples: int = 20_000
) -> tuple[float, bool]:
    """P(mean difference this low or lower | no true difference): small means the
    candidate is worse. Returns ``(p, exact)``.

    Under the null each case's difference is as likely to be ``+d`` as ``-d``. Zero
    differences (cases that did not change) carry no information and drop out.
    """
    nonzero = [d for d in diffs if d != 0]
    if not nonzero:
        return 1.0, True
    grid = _grid(nonzero)
    if grid is not None:
        sizes = [round(abs(d) * grid) for d in nonzero]
        if sum(sizes) * len(sizes) <= _EXACT_BUDGET:
            observed = round(sum(d * grid for d in nonzero))
            return _exact_tail(sizes, observed), True
    return _sampled_tail(nonzero, seed=seed, resamples=resamples), False


def _grid(values: Sequence[float]) -> int | None:
    for scale in _GRIDS:
        if all(abs(v * scale - round(v * scale)) < 1e-9 for v in values):
            return scale
    return None


def _exact_tail(sizes: Sequence[int], observed: int) -> float:
    """P(sum of randomly signed sizes <= observed), by counting subset sums."""
    total = sum(sizes)
    # S = 2 * (sum of the sizes given a + sign) - total, so S <= observed iff that
    # subset sum is <= (observed + total) / 2.
    target = (observed + total) // 2
    dist = [1.0] + [0.0] * total
    reach = 0
    for size in sizes:
        reach += size
        for s in range(reach, size - 1, -1):
            dist[s] = (dist[s] + dist[s - size]) * 0.5
        for s in range(min(size, reach + 1) - 1, -1, -1):
            dist[s] *= 0.5
    return min(1.0, math.fsum(dist[: target + 1]))


def _sampled_tail(nonzero: Sequence[float], *, seed: int, resamples: int) -> float:
    rng = random.Random(seed)
    magnitudes = [abs(d) for d in nonzero]
    observed = math.fsum(nonzero) + 1e-12  # ties count as "as low"
    hits = 0
    for _ in range(resamples):
        bits = rng.getrandbits(len(magnitudes))
        total = 0.0
        for m in magnitudes:
            total += m if bits & 1 else -m
            bits >>= 1
        if total <= observed:
            hits += 1
    return (hits + 1) / (resamples + 1)


def bootstrap_ci(
    diffs: Sequence[float], *, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval for the mean difference, resampling whole cases (seeded)."""
    n = len(diffs)
    if n == 0:
        return (0.0, 0.0)
    if all(d == diffs[0] for d in diffs):
        return (float(diffs[0]), float(diffs[0]))
    rng = random.Random(seed)
    values = list(diffs)
    means = sorted(math.fsum(rng.choices(values, k=n)) / n for _ in range(resamples))
    tail = (1 - level) / 2
    return percentile(means, tail), percentile(means, 1 - tail)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of already sorted values, linearly interpolated."""
    if not sorted_values:
        return math.nan
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _z(alpha: float, power: float) -> float:
    normal = statistics.NormalDist()
    return normal.inv_cdf(1 - alpha) + normal.inv_cdf(power)


def detectable_drop(sd: float, n: int, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest true drop a one-sided paired test finds with ``power``, given the
    standard deviation of per-case differences ``sd`` and ``n`` cases (normal approx.)."""
    if n <= 0:
        return math.inf
    return _z(alpha, power) * sd / math.sqrt(n)


def needed(
    *,
    drop: float,
    n: int,
    epochs: int,
    between_var: float,
    within_var: float,
    alpha: float = 0.05,
    power: float = 0.8,
) -> tuple[int | None, int | None]:
    """How many cases (at the current epochs) or epochs (on the current cases) it takes
    to detect ``drop`` with ``power``. ``None`` means more epochs alone cannot do it.

    The variance of a case's difference is ``between_var + within_var / epochs``: more
    epochs shrink only the second part (the sampling noise of each case).
    """
    if drop <= 0:
        return None, None
    z = _z(alpha, power)
    var = between_var + within_var / max(epochs, 1)
    cases = math.ceil(var * (z / drop) ** 2) if var > 0 else n
    budget = n * (drop / z) ** 2  # the largest variance that n cases can afford
    if within_var <= 0 or budget <= between_var:
        return max(cases, 1), None
    return max(cases, 1), max(math.ceil(within_var / (budget - between_var)), 1)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (for per-tag slices, so many slices do not cry wolf)."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted = [1.0] * len(pvalues)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted
