"""Wrapper overhead: a governed call vs the same raw vendor SDK call, interleaved in one run.

Both sides talk to thinllm.testing's fake vendor over the SDK's own HTTP stack (the
in-process transport), so the difference is thinllm's own work: tags, flag, render,
retry loop, usage normalisation, pricing, the audit event and an in-memory sink.

    python bench/bench_overhead.py [--calls 2000] [--rounds 15]

Prints per-call medians and p95 for sync and async, Anthropic and OpenAI, the overhead
in µs and as a ratio, and `import thinllm` time against `import pydantic`. When
LiteLLM is installed, the same call through litellm.completion (pointed at the fake
vendor over loopback HTTP) is measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import thinllm
from thinllm import Client, Prompt, Route, Tags, user
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

SYSTEM = "You triage support tickets. Answer with one label."
TICKET = "My parcel has not arrived after two weeks, please help."


def per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def aper_call(fn: Callable[[], Awaitable[Any]], calls: int) -> float:
    async def run() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            await fn()
        return (time.perf_counter() - start) / calls

    return asyncio.run(run())


def interleave(
    pairs: dict[str, tuple[Callable[[], float], Callable[[], float]]], rounds: int
) -> dict[str, tuple[list[float], list[float]]]:
    out: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in pairs}
    for _ in range(rounds):
        for name, (raw, governed) in pairs.items():
            out[name][0].append(raw())
            out[name][1].append(governed())
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def import_time(module: str, runs: int = 15) -> float:
    code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    calls, rounds = args.calls, args.rounds

    fake = FakeVendor()
    fake.reply("shipping")
    os.environ.setdefault("BENCH_AI", "on")
    tags = Tags(user="alice@corp", workflow="support-triage", cost_center="cs-eu")
    prompt = Prompt(SYSTEM, messages=[user(TICKET)])

    def governed_client(route: Route) -> Client:
        return Client(
            [route],
            require_tags=("user", "workflow", "cost_center"),
            sinks=[MemorySink(maxlen=1000)],
            flag=thinllm.flags.EnvFlag("BENCH_AI"),
        )

    a_raw = fake.anthropic(max_retries=0)
    a_gov = governed_client(Route(fake.anthropic(), model="claude-sonnet-5-5"))
    # Render with the same tags, so both sides send byte-identical requests (the user
    # tag becomes metadata.user_id / safety_identifier).
    a_kwargs = a_gov.render(prompt, tags=tags, max_tokens=16)
    o_raw = fake.openai(max_retries=0)
    o_gov = governed_client(Route(fake.openai(), model="gpt-6.1-terra"))
    o_kwargs = o_gov.render(prompt, tags=tags, max_tokens=16)
    aa_raw = fake.async_anthropic(max_retries=0)
    aa_gov = governed_client(Route(fake.async_anthropic(), model="claude-sonnet-5-5"))

    pairs: dict[str, tuple[Callable[[], float], Callable[[], float]]] = {
        "anthropic sync": (
            lambda: per_call(lambda: a_raw.messages.create(**a_kwargs), calls),
            lambda: per_call(lambda: a_gov.complete(prompt, tags=tags, max_tokens=16), calls),
        ),
        "openai sync": (
            lambda: per_call(lambda: o_raw.chat.completions.create(**o_kwargs), calls),
            lambda: per_call(lambda: o_gov.complete(prompt, tags=tags, max_tokens=16), calls),
        ),
        "anthropic async": (
            lambda: aper_call(lambda: aa_raw.messages.create(**a_kwargs), calls),
            lambda: aper_call(lambda: aa_gov.acomplete(prompt, tags=tags, max_tokens=16), calls),
        ),
    }
    # Warm-up (imports, caches, connection pools) before measuring.
    for raw, governed in pairs.values():
        raw()
        governed()
    results = interleave(pairs, rounds)

    print(
        f"thinllm {thinllm.__version__}, python {sys.version.split()[0]}, {calls} calls x {rounds} rounds"
    )
    print(
        f"{'case':<18}{'raw µs':>10}{'gov µs':>10}{'raw p95':>10}{'gov p95':>10}{'overhead µs':>13}{'ratio':>8}"
    )
    for name, (raw, gov) in results.items():
        r, g = statistics.median(raw) * 1e6, statistics.median(gov) * 1e6
        print(
            f"{name:<18}{r:>10.1f}{g:>10.1f}{p95(raw) * 1e6:>10.1f}{p95(gov) * 1e6:>10.1f}"
            f"{g - r:>13.1f}{g / r:>8.3f}"
        )
    t_thin, t_pyd = import_time("thinllm"), import_time("pydantic")
    print(
        f"import thinllm {t_thin * 1e3:.1f} ms, import pydantic {t_pyd * 1e3:.1f} ms, ratio {t_thin / t_pyd:.2f}"
    )
    try:
        import litellm  # noqa: F401
    except ImportError:
        print("litellm not installed: `pip install -e '.[bench]'` to measure it in the same run")
    else:  # pragma: no cover - optional comparison
        _litellm(fake, calls, rounds)


def _litellm(fake: FakeVendor, calls: int, rounds: int) -> None:
    import litellm

    with fake.serve() as base_url:
        raw = fake.anthropic(max_retries=0, base_url=base_url)
        kwargs = {
            "model": "claude-sonnet-5-5",
            "max_tokens": 16,
            "messages": [{"role": "user", "content": TICKET}],
        }
        lite = lambda: litellm.completion(  # noqa: E731
            model="anthropic/claude-sonnet-5-5",
            api_base=base_url,
            api_key="test-key",
            max_tokens=16,
            messages=[{"role": "user", "content": TICKET}],
            num_retries=0,
        )
        res = interleave(
            {
                "litellm (http)": (
                    lambda: per_call(lambda: raw.messages.create(**kwargs), calls // 4),
                    lambda: per_call(lite, calls // 4),
                )
            },
            rounds,
        )
        for name, (r, g) in res.items():
            rm, gm = statistics.median(r) * 1e6, statistics.median(g) * 1e6
            print(f"{name:<18}{rm:>10.1f}{gm:>10.1f}{'':>20}{gm - rm:>13.1f}{gm / rm:>8.3f}")


if __name__ == "__main__":
    main()
