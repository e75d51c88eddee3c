"""Eval harness throughput: 200 cases at concurrency 20 against a 100 ms fake vendor.

The ideal wall time is 200 × 0.1 / 20 = 1.0 s (target: within 1.3×); an unchanged
rerun is served from the generation cache (target: under 2 s). Prints medians.

    python bench/bench_evals.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import thinllm
from thinllm.evals import Eval, EvalCache, Exact, arun
from thinllm.testing import FakeVendor

CASES = 200
CONCURRENCY = 20
LATENCY = 0.1


def make_eval() -> Eval:
    fake = FakeVendor(latency=LATENCY)
    fake.reply(lambda request: request.text.split()[-1])
    route = thinllm.Route(fake.async_anthropic(), model="claude-sonnet-5-5")
    cases = [{"id": f"c{i:03d}", "input": f"repeat {i}", "expected": str(i)} for i in range(CASES)]
    return Eval(
        "bench",
        cases=cases,
        graders=[Exact()],
        routes=[route],
        options={"max_tokens": 8},
        concurrency=CONCURRENCY,
    )


async def once(directory: Path, cache_path: Path) -> tuple[float, float]:
    ev = make_eval()
    with EvalCache(cache_path) as cache:
        start = time.perf_counter()
        cold = await arun(ev, out=directory / "cold", cache=cache)
        cold_s = time.perf_counter() - start
        start = time.perf_counter()
        warm = await arun(make_eval(), out=directory / "warm", cache=cache)
        warm_s = time.perf_counter() - start
    assert cold.summary()["pass_rate"] == 1.0, "the fake vendor should answer every case right"
    assert warm.summary()["cache_hit_ratio"] == 1.0, "the rerun should be served from the cache"
    return cold_s, warm_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            c, w = asyncio.run(once(Path(tmp), Path(tmp) / "cache.sqlite"))
        cold.append(c)
        warm.append(w)
    ideal = CASES * LATENCY / CONCURRENCY
    cold_med, warm_med = statistics.median(cold), statistics.median(warm)
    print(
        f"{CASES} cases, concurrency {CONCURRENCY}, vendor latency {LATENCY * 1000:.0f} ms, "
        f"{args.repeats} repeats"
    )
    print(
        f"cold run   median {cold_med:.2f} s  (ideal {ideal:.2f} s, ratio {cold_med / ideal:.2f}x, "
        "target <= 1.3x)"
    )
    print(f"cached run median {warm_med:.2f} s  (target < 2 s)")


if __name__ == "__main__":
    main()
