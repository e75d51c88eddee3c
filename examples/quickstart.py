"""Quickstart: a governed call, offline, against thinllm's fake vendor.

    python examples/quickstart.py

Swap ``fake.anthropic()`` / ``fake.openai()`` for ``anthropic.Anthropic()`` /
``openai.OpenAI()`` and the same code calls the real vendors.
"""

from __future__ import annotations

from thinllm import Client, Prompt, Route, Tags, user
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

POLICY = "Refunds are allowed within 30 days of purchase with a receipt. " * 80


def main() -> None:
    fake = FakeVendor()
    fake.reply("refund")
    audit = MemorySink()
    client = Client(
        routes=[
            Route(fake.anthropic(), model="claude-sonnet-5-5"),  # primary
            Route(fake.openai(), model="gpt-6.1-terra", name="openai"),  # fallback
        ],
        require_tags=("user", "workflow", "cost_center"),
        sinks=[audit],
    )
    prompt = Prompt(
        system="You triage support tickets. Answer with one label.",  # static
        context=[POLICY],  # static, cached
        messages=[user("I'd like my money back for order 1234.")],  # dynamic
    )
    tags = Tags(user="alice@corp", workflow="support-triage", cost_center="cs-eu")

    print("request:", sorted(client.render(prompt, max_tokens=16)))
    for attempt in ("first", "second"):
        reply = client.complete(prompt, tags=tags, max_tokens=16)
        print(f"{attempt}: {reply}")
    event = audit.events[-1]
    print("audit:", event.outcome, event.tags, event.usage, event.cost_usd)


if __name__ == "__main__":
    main()
