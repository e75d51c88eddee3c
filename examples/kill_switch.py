"""Kill switch: support tickets go back to the legacy queue when the AI path is off.

    python examples/kill_switch.py

Runs offline against thinllm's fake vendor. An operator flips the environment
variable ``SUPPORT_TRIAGE_AI`` (in production: a deploy setting, or an OpenFeature
flag with ``thinllm.flags.OpenFeatureFlag``); the next call obeys, without a restart.
While the flag is off the vendor is never contacted: the ticket goes to the prior
workflow and the audit event says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from thinllm import Client, Prompt, Retry, Route, Tags, user
from thinllm.flags import EnvFlag
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault

FLAG = "SUPPORT_TRIAGE_AI"


@dataclass
class LegacyQueue:
    """The prior workflow: a queue human agents work through."""

    tickets: list[str] = field(default_factory=list)

    def enqueue(self, ticket: str) -> str:
        self.tickets.append(ticket)
        return f"queued for a human (position {len(self.tickets)})"


def main() -> None:
    fake = FakeVendor()
    fake.reply("shipping")
    claude, gpt = fake.anthropic(), fake.openai()
    audit = MemorySink()
    client = Client(
        routes=[
            Route(claude, model="claude-sonnet-5-5"),
            Route(gpt, model="gpt-6.1-terra", name="openai"),
        ],
        require_tags=("user", "workflow", "cost_center"),
        sinks=[audit],
        flag=EnvFlag(FLAG),  # read at every call
        retry=Retry(attempts=2, initial=0.0),  # no waiting in a demo
    )
    legacy = LegacyQueue()
    tags = Tags(user="agent-7", workflow="support-triage", cost_center="cs-eu")
    system = "You triage support tickets. Answer with one label."

    def triage(ticket: str) -> None:
        reply = client.complete(
            Prompt(system=system, messages=[user(ticket)]),
            tags=tags,
            max_tokens=16,
            fallback=lambda: legacy.enqueue(ticket),  # the prior workflow
        )
        event = audit.events[-1]
        print(f"{ticket[:34]!r:38} -> {reply.value!r}")
        print(f"{'':38}    outcome={reply.outcome} route={reply.route} flag={event.flag}")

    os.environ[FLAG] = "on"
    triage("Where is my parcel? Order 1234.")

    fake.fail(Fault.overloaded(), times=None, vendor="anthropic")  # primary vendor is down
    triage("Parcel arrived damaged, order 99.")

    print(f"-- operator sets {FLAG}=off --")
    os.environ[FLAG] = "off"
    sent = len(fake.requests)
    triage("I was charged twice for order 77.")
    assert len(fake.requests) == sent, "the vendor must not be contacted while off"
    print(f"{'':38}    vendor requests while off: {len(fake.requests) - sent}")

    print(f"-- operator sets {FLAG}=on --")
    os.environ[FLAG] = "on"
    triage("Can I change my delivery address?")

    fake.fail(Fault.server_error(503), times=None, vendor="openai")  # now both are down
    triage("Refund for order 5 please.")

    print(f"legacy queue: {legacy.tickets}")
    print(f"audit events: {[e.outcome for e in audit.events]}")
    claude.close()
    gpt.close()
    client.close()


if __name__ == "__main__":
    main()
