"""``thinllm demo``: a governed support-triage workflow, end to end, offline by default.

It runs against the built-in fake vendor (no key, no network) and prints what a team
would want to see: the exact request, the reply, tokens, the cache hit on the second
call, cost, a retry and reroute, the kill switch, PII redaction, and where the audit
records went. ``--real`` points it at the real vendors using ANTHROPIC_API_KEY /
OPENAI_API_KEY.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

__all__ = ["run_demo"]

POLICY = (
    "Support policy. Refunds are allowed within 30 days of purchase with a receipt. "
    "Shipping problems go to the logistics queue. Billing disputes go to finance. "
    "Account access problems go to identity. Anything else is 'other'. "
) * 24
SYSTEM = (
    "You triage support tickets. "
    "Answer with exactly one label: refund, shipping, billing, account or other."
)
TICKETS = (
    "My parcel has not arrived after two weeks.",
    "I was charged twice for the same order.",
    "Please refund my order, contact me at jane.doe@example.com or +1 415 555 0100.",
)


def _label(text: str) -> str:
    lowered = text.lower()
    for word, label in (("refund", "refund"), ("charged", "billing"), ("parcel", "shipping")):
        if word in lowered:
            return label
    return "other"


def legacy_triage(ticket: str) -> str:
    """The prior workflow: a keyword router that hands tickets to a human queue."""
    return f"legacy-queue:{_label(ticket)}"


def _short(value: Any, limit: int = 90) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[: limit - 20] + f"… [{len(value)} chars]"
    if isinstance(value, dict):
        return {k: _short(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_short(v, limit) for v in value]
    return value


def run_demo(*, db: str | None = None, real: bool = False, out: TextIO = sys.stdout) -> int:
    """Run the demo; returns the process exit code."""
    import anthropic
    import openai

    import thinllm
    from thinllm import Client, Prompt, Retry, Route, Tags, user
    from thinllm.flags import EnvFlag
    from thinllm.pii import Redact
    from thinllm.sinks import SQLiteSink
    from thinllm.testing import FakeVendor, Fault

    def say(text: str = "") -> None:
        print(text, file=out)

    db_path = Path(db or "thinllm-demo.db").resolve()
    fake: FakeVendor | None = None
    if real:
        missing = [k for k in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY") if not os.environ.get(k)]
        if missing:
            say(f"--real needs {' and '.join(missing)} in the environment.")
            return 2
        primary: Any = anthropic.Anthropic()
        secondary: Any = openai.OpenAI()
    else:
        fake = FakeVendor(cache_min_tokens=1024)
        fake.reply(lambda request: _label(request.text))
        primary, secondary = fake.anthropic(), fake.openai()

    sink = SQLiteSink(db_path)
    flag_env = "THINLLM_DEMO_AI"
    client = Client(
        routes=[
            Route(primary, model="claude-sonnet-5-5", name="claude", defaults={"max_tokens": 16}),
            Route(secondary, model="gpt-6.1-terra", name="openai"),
        ],
        require_tags=("user", "workflow", "cost_center"),
        sinks=[sink],
        flag=EnvFlag(flag_env),
        pii=Redact(),
        retry=Retry(attempts=2, initial=0.05, maximum=0.2),
    )
    tags = Tags(user="alice@corp", workflow="support-triage", cost_center="cs-eu")

    def prompt(ticket: str) -> Prompt:
        return Prompt(SYSTEM, context=[POLICY], messages=[user(ticket)])

    say(
        f"thinllm {thinllm.__version__} demo — {'REAL vendors' if real else 'offline, fake vendor'}"
    )
    say("=" * 72)
    say("1. The exact request thinllm hands to the Anthropic SDK (client.render):")
    rendered = client.render(prompt(TICKETS[0]), route="claude", tags=tags)
    say(json.dumps(_short(rendered), indent=2))

    say("\n2. First call: the static prefix (system + policy) is written to the prompt cache.")
    first = client.complete(
        prompt(TICKETS[0]), tags=tags, fallback=lambda: legacy_triage(TICKETS[0])
    )
    _show(say, first)
    say("\n3. Second call, new ticket, same static prefix: read from the cache, cheaper.")
    second = client.complete(
        prompt(TICKETS[1]), tags=tags, fallback=lambda: legacy_triage(TICKETS[1])
    )
    _show(say, second)
    if first.cost and second.cost:
        say(f"   cost second/first: {float(second.cost / first.cost):.2f}×")

    if fake is not None:
        say("\n4. The primary is overloaded (529 twice): retried once, then rerouted to OpenAI.")
        fake.fail(Fault.overloaded(), times=2, vendor="anthropic")
        third = client.complete(prompt(TICKETS[1]), tags=tags)
        _show(say, third)
        for a in third.attempts:
            say(
                f"   attempt route={a.route} status={a.status} error={a.error} "
                f"{a.latency_ms:.1f} ms"
            )

    say("\n5. PII: the ticket holds an email and a phone number; the vendor sees placeholders.")
    before = len(fake.requests) if fake is not None else 0
    fourth = client.complete(prompt(TICKETS[2]), tags=tags)
    _show(say, fourth)
    if fake is not None:
        seen = fake.requests[before].text
        say(f"   the vendor received: {seen!r}")

    say("\n6. Kill switch: THINLLM_DEMO_AI=off hands the ticket to the legacy workflow.")
    with _env(flag_env, "off"):
        fifth = client.complete(
            prompt(TICKETS[0]), tags=tags, fallback=lambda: legacy_triage(TICKETS[0])
        )
    say(f"   outcome={fifth.outcome} value={fifth.value!r} (vendor not contacted)")

    client.close()
    say("\n7. Every call above wrote one audit event (hash-chained) to:")
    say(f"   {db_path}")
    say(f"   thinllm audit --db {db_path} --json   # the events")
    say(f"   thinllm costs --db {db_path} --by cost_center,workflow   # spend and cache-hit ratio")
    say(f"   thinllm audit verify --db {db_path}   # tamper check")
    return 0


def _show(say: Any, reply: Any) -> None:
    u = reply.usage
    cost = f"${reply.cost:.6f}" if reply.cost is not None else "unpriced"
    say(f"   reply={reply.value!r} outcome={reply.outcome} route={reply.route}")
    say(
        f"   tokens in={u.input_tokens} (cache read {u.cache_read_tokens}, cache write "
        f"{u.cache_write_tokens}) out={u.output_tokens} cost={cost}"
    )


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old
