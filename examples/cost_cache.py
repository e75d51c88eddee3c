"""What prompt order and batching do to the bill: one workload, measured three ways.

The same 100 support tickets are triaged against a ~6 KB refund policy, offline,
against thinllm's fake vendor (which simulates both vendors' prompt caches):

1. cache-busting: a request id and timestamp at the top of the system prompt, so the
   static prefix differs on every call and nothing is ever read from the cache;
2. cache-friendly: the same text, but the id and timestamp moved into the user
   message, so the instructions and policy form one stable, cached prefix;
3. the cache-friendly prompts submitted through ``client.batch`` (batch rate).

Run it with ``python examples/cost_cache.py`` (Anthropic), ``... openai`` or ``... both``.
Costs use thinllm's shipped price table.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from thinllm import Client, Prompt, Reply, Route, Tags, Usage, pricing, user
from thinllm.testing import FakeVendor

CALLS = 100
INSTRUCTIONS = (
    "You triage customer support tickets for an online shop. Read the policy below and "
    "answer with exactly one label: refund, replace, shipping, account or other."
)
POLICY = "\n".join(
    f"{n}. Items bought in the last {n + 13} days may be returned for a refund if unused; "
    f"damaged items are replaced at no cost; shipping delays over {n + 2} days are refunded."
    for n in range(1, 39)
)  # about 6 KB, well above both vendors' minimum cacheable prefix
TICKETS = [
    "My parcel has not arrived after two weeks.",
    "The kettle I bought arrived with a cracked lid.",
    "I want my money back for the unused jacket.",
    "I cannot log in to my account since yesterday.",
    "Can you change the delivery address of my order?",
]
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MODELS = {"anthropic": "claude-sonnet-5-5", "openai": "gpt-6.1-terra"}


class StepClock:
    """Simulated time: every call is two seconds after the previous one."""

    def __init__(self) -> None:
        self.now = START.timestamp()

    def __call__(self) -> float:
        return self.now

    def tick(self) -> None:
        self.now += 2.0


def stamp(i: int) -> str:
    """The per-request details that vary on every call."""
    return f"Request req_{i:06d} received {(START + timedelta(seconds=2 * i)).isoformat()}."


def busting(i: int) -> Prompt:
    """Careless: the varying stamp sits at the top of the static system prompt."""
    return Prompt(
        system=f"{stamp(i)}\n{INSTRUCTIONS}",
        context=[POLICY],
        messages=[user(TICKETS[i % len(TICKETS)])],
    )


def friendly(i: int) -> Prompt:
    """Careful: static instructions and policy first, the stamp in the dynamic message."""
    return Prompt(
        system=INSTRUCTIONS,
        context=[POLICY],
        messages=[user(f"{stamp(i)}\n{TICKETS[i % len(TICKETS)]}")],
    )


def client_for(vendor: str, fake: FakeVendor, clock: StepClock) -> Client:
    sdk = fake.anthropic() if vendor == "anthropic" else fake.openai()
    return Client([Route(sdk, model=MODELS[vendor])], clock=clock)


def run_sync(vendor: str, build: object) -> list[Reply]:
    """100 governed calls, one every two (simulated) seconds, on a fresh vendor cache."""
    clock = StepClock()
    fake = FakeVendor(clock=clock)
    fake.reply("shipping")
    client = client_for(vendor, fake, clock)
    replies = []
    for i in range(CALLS):
        assert callable(build)
        replies.append(
            client.complete(build(i), tags=Tags(workflow="support-triage"), max_tokens=8)
        )
        clock.tick()
    return replies


def run_batch(vendor: str) -> list[Reply]:
    """The cache-friendly workload as one vendor batch."""
    clock = StepClock()
    fake = FakeVendor(clock=clock)
    fake.reply("shipping")
    client = client_for(vendor, fake, clock)
    job = client.batch(
        [friendly(i) for i in range(CALLS)], tags=Tags(workflow="support-triage"), max_tokens=8
    )
    return job.wait(progress=False)


def totals(replies: list[Reply]) -> tuple[Usage, Decimal]:
    usage = Usage()
    cost = Decimal(0)
    for reply in replies:
        usage += reply.usage
        cost += reply.cost or Decimal(0)
    return usage, cost


def main(vendors: list[str]) -> None:
    # Keep this demo's batch records out of your real state folder.
    with tempfile.TemporaryDirectory() as state:
        os.environ["THINLLM_STATE_DIR"] = state
        rows = []
        summary = []
        for vendor in vendors:
            results = {
                "cache-busting": totals(run_sync(vendor, busting)),
                "cache-friendly": totals(run_sync(vendor, friendly)),
                "friendly, batch": totals(run_batch(vendor)),
            }
            for name, (usage, cost) in results.items():
                rows.append((MODELS[vendor], name, usage, cost))
            bust_usage, bust = results["cache-busting"]
            good = results["cache-friendly"][1]
            batch = results["friendly, batch"][1]
            # The same tokens with no prompt caching at all, for reference.
            price = pricing.get(MODELS[vendor])
            assert price is not None
            plain = Usage(bust_usage.input_tokens, bust_usage.output_tokens)
            summary.append(
                f"{MODELS[vendor]}: the same tokens without any caching would cost "
                f"{pricing.cost(plain, price):.4f} USD"
            )
            summary.append(
                f"{MODELS[vendor]}: cache-busting costs {bust / good:.1f}x the cache-friendly "
                f"run; batch costs {batch / good:.2f}x of it ({bust / batch:.1f}x less than "
                "cache-busting)"
            )

    header = (
        f"{'model':<18} {'scenario':<16} {'calls':>5} {'input tok':>10} {'cache read':>10} "
        f"{'cache write':>11} {'hit ratio':>9} {'cost USD':>10}"
    )
    print(header)
    print("-" * len(header))
    for model, name, usage, cost in rows:
        print(
            f"{model:<18} {name:<16} {CALLS:>5} {usage.input_tokens:>10,} "
            f"{usage.cache_read_tokens:>10,} {usage.cache_write_tokens:>11,} "
            f"{usage.cache_hit_ratio:>9.1%} {cost:>10.4f}"
        )
    print()
    for line in summary:
        print(line)


if __name__ == "__main__":
    choice = sys.argv[1] if len(sys.argv) > 1 else "anthropic"
    if choice not in ("anthropic", "openai", "both"):
        sys.exit("usage: cost_cache.py [anthropic|openai|both]")
    main(list(MODELS) if choice == "both" else [choice])
