"""CPU instructions thinllm itself spends per governed call (callgrind, deterministic).

Wall-clock overhead on a shared host is too noisy to judge a few-µs change, so this
counts instructions instead. The vendor SDK's method is replaced by a stub that returns
a prebuilt response, so only thinllm's own work is counted: tags, flag, render, route
loop, usage, pricing, the audit event with redacted content and a MemorySink. Same
setup as bench_overhead.py.

    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce \\
        --callgrind-out-file=/tmp/cg.%p python bench/count_overhead.py anthropic
    valgrind ... python bench/count_overhead.py anthropic --harness-only

Each run makes ``--calls`` warm calls (300 by default) inside one ``functools.reduce``
(the only place that C function runs, so callgrind collects exactly the loop). Take
the "Collected" total of the full run, subtract the ``--harness-only`` run (same loop,
only the stub is called), and divide by the number of calls. Without valgrind the script
just runs the loop, which is a quick smoke test.

``--cold`` makes one real SDK call through the fake vendor before each governed call
(not collected: each governed call runs in its own ``reduce``), so the CPU caches hold
what they hold in ``bench_overhead.py``, where thinllm's work follows a vendor call.
With ``--cache-sim=yes`` callgrind then also counts L1 misses (I1mr, D1mr, D1mw);
use about 100 calls, each SDK call takes ~40 ms under valgrind. On the 2026-11-28 host,
wall time matched ``0.235 ns x instructions + 4.9 ns x L1 misses`` (hot: 138k
instructions, 32 µs; after a vendor call: +5,700 misses, 64 µs)::

    valgrind --tool=callgrind --cache-sim=yes --collect-atstart=no \\
        --toggle-collect=functools_reduce python bench/count_overhead.py anthropic --cold --calls 100

``--wall`` (no valgrind) prints the median wall time of thinllm's own work per call, hot
and after a vendor call: ``python bench/count_overhead.py anthropic --wall --calls 3000``.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from typing import Any

from thinllm import Client, Prompt, Route, Tags, user
from thinllm.flags import EnvFlag
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

SYSTEM = "You triage support tickets. Answer with one label."
TICKET = "My parcel has not arrived after two weeks, please help."


def build(vendor: str) -> tuple[Any, Any, Any]:
    """Return (governed call, stubbed SDK method, raw SDK call) for one vendor, warmed up."""
    fake = FakeVendor()
    fake.reply("shipping")
    os.environ.setdefault("BENCH_AI", "on")
    tags = Tags(user="alice@corp", workflow="support-triage", cost_center="cs-eu")
    prompt = Prompt(SYSTEM, messages=[user(TICKET)])
    if vendor == "anthropic":
        sdk = fake.anthropic(max_retries=0)
        resource, model = sdk.messages, "claude-sonnet-5-5"
    else:
        sdk = fake.openai(max_retries=0)
        resource, model = sdk.chat.completions, "gpt-6.1-terra"
    client = Client(
        [Route(sdk, model=model)],
        require_tags=("user", "workflow", "cost_center"),
        sinks=[MemorySink(maxlen=1000)],
        flag=EnvFlag("BENCH_AI"),
    )
    # One real call through the fake vendor gives a genuine response object; from then
    # on the SDK method returns it without any HTTP work.
    kwargs = client.render(prompt, tags=tags, max_tokens=16)
    response = resource.create(**kwargs)
    # A separate SDK client keeps making real calls (for --cold).
    raw_sdk = fake.anthropic(max_retries=0) if vendor == "anthropic" else fake.openai(max_retries=0)
    raw_resource = raw_sdk.messages if vendor == "anthropic" else raw_sdk.chat.completions

    def raw() -> Any:
        return raw_resource.create(**kwargs)

    def stub(**_: Any) -> Any:
        return response

    resource.create = stub

    def governed() -> Any:
        return client.complete(prompt, tags=tags, max_tokens=16)

    for _ in range(50):  # warm caches, lazy imports and first-call paths
        governed()
        raw()
    return governed, stub, raw


def wall(governed: Any, stub: Any, raw: Any, calls: int) -> None:
    """Median wall time of thinllm's own work per call: hot, and right after a vendor call."""
    clock = time.perf_counter_ns

    def median_us(before: Any, call: Any) -> float:
        samples = []
        for _ in range(calls):
            if before is not None:
                before()
            t0 = clock()
            call()
            samples.append(clock() - t0)
        return statistics.median(samples) / 1e3

    own = [median_us(before, governed) - median_us(before, stub) for before in (None, raw)]
    print(
        f"thinllm's own work {own[0]:.1f} µs per call hot, {own[1]:.1f} µs right after a "
        f"vendor call (SDK stubbed; medians of {calls})"
    )


def main() -> None:
    """Run the measured loop inside functools.reduce (callgrind's toggle point)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("vendor", choices=["anthropic", "openai"])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--harness-only", action="store_true")
    parser.add_argument("--cold", action="store_true", help="a real SDK call before each")
    parser.add_argument(
        "--wall", action="store_true", help="print median µs per call, hot and --cold"
    )
    args = parser.parse_args()
    governed, stub, raw = build(args.vendor)
    if args.wall:
        wall(governed, stub, raw, args.calls)
        return
    step = (lambda _a, _b: stub()) if args.harness_only else (lambda _a, _b: governed())
    if not args.cold:
        functools.reduce(step, range(args.calls), None)
        return
    for _ in range(args.calls):
        raw()
        functools.reduce(step, range(1), None)


if __name__ == "__main__":
    main()
