"""Memory over many governed calls: is it flat?

    python bench/bench_memory.py [--calls 100000] [--every 10000]

Runs governed calls (tags, flag, PII scrubbing of content, pricing, a bounded
MemorySink and a durable SQLite sink) against the in-process fake vendor and prints
traced Python memory and the process's resident set every ``--every`` calls. The fake
vendor's own request log is cleared as it goes (it is test infrastructure, not part of
the client).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import tracemalloc

from thinllm import Client, Prompt, Route, Tags, user
from thinllm.flags import EnvFlag
from thinllm.sinks import MemorySink, SQLiteSink
from thinllm.testing import FakeVendor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=10_000)
    args = parser.parse_args()

    fake = FakeVendor()
    fake.reply("shipping")
    os.environ.setdefault("BENCH_AI", "on")
    with tempfile.TemporaryDirectory() as tmp:
        client = Client(
            [Route(fake.anthropic(), model="claude-sonnet-5-5")],
            require_tags=("user", "workflow", "cost_center"),
            sinks=[
                MemorySink(maxlen=1000),
                SQLiteSink(os.path.join(tmp, "audit.db"), durable=False),
            ],
            flag=EnvFlag("BENCH_AI"),
        )
        tags = Tags(user="alice@corp", workflow="support-triage", cost_center="cs-eu")
        tracemalloc.start()
        start = time.perf_counter()
        print(f"{'calls':>8} {'traced MB':>10} {'peak MB':>9} {'max RSS MB':>11} {'s':>7}")
        for i in range(1, args.calls + 1):
            ticket = f"Ticket {i}: my parcel has not arrived, please help."
            client.complete(
                Prompt("You triage tickets.", messages=[user(ticket)]), tags=tags, max_tokens=16
            )
            if i % 1000 == 0:
                fake.reset()
                fake.reply("shipping")
            if i % args.every == 0:
                current, peak = tracemalloc.get_traced_memory()
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(
                    f"{i:>8} {current / 1e6:>10.2f} {peak / 1e6:>9.2f} {rss:>11.1f} {time.perf_counter() - start:>7.1f}"
                )
        client.close()


if __name__ == "__main__":
    main()
