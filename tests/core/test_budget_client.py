"""Budgets through the client: spend is checked before sending, across processes via the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from thinllm import Budget, BudgetExceededError, Client, Prompt, Route, Tags, pricing, user
from thinllm.pricing import ModelPrice
from thinllm.sinks import MemorySink, SQLiteSink
from thinllm.testing import FakeVendor

TAGS = Tags(user="u", workflow="w", cost_center="cs-eu")


def expensive() -> None:
    """A model priced so that one call costs about a cent."""
    pricing.register("pricey-model", ModelPrice.per_million(1000, 1000))


class TestBudgetsThroughClient:
    def test_over_budget_blocks_before_sending(self, fake: FakeVendor) -> None:
        """Once spend reaches the budget, the next call raises and the vendor is not contacted."""
        expensive()
        sink = MemorySink()
        client = Client(
            [Route(fake.openai(), model="pricey-model")],
            sinks=[sink],
            budgets=[Budget(tag="cost_center", value="cs-eu", usd=0.01, per="day")],
        )
        prompt = Prompt(messages=[user("x" * 200)])

        def spend_until_blocked() -> None:
            for _ in range(10):
                client.complete(prompt, tags=TAGS, max_tokens=8)

        with pytest.raises(BudgetExceededError):
            spend_until_blocked()
        sent = len(fake.requests)
        assert 1 <= sent < 10
        assert sink.events[-1].outcome == "blocked"
        assert sink.events[-1].error["type"] == "budget_exceeded"
        reply = client.complete(prompt, tags=TAGS, max_tokens=8, fallback=lambda: "queued")
        assert (reply.outcome, reply.value, len(fake.requests)) == ("blocked", "queued", sent)

    def test_other_cost_centers_are_not_affected(self, fake: FakeVendor) -> None:
        """A budget for one tag value leaves other values alone."""
        expensive()
        client = Client(
            [Route(fake.openai(), model="pricey-model")],
            budgets=[Budget(tag="cost_center", value="cs-eu", usd=0.0001, per="day")],
        )
        prompt = Prompt(messages=[user("x" * 200)])
        client.complete(prompt, tags=TAGS, max_tokens=8)
        with pytest.raises(BudgetExceededError):
            client.complete(prompt, tags=TAGS, max_tokens=8)
        other = client.complete(prompt, tags=Tags(cost_center="cs-us"), max_tokens=8)
        assert other.outcome == "ok"

    def test_a_new_process_sees_spend_in_the_shared_store(self, fake: FakeVendor, tmp_path: Path) -> None:
        """A second client on the same SQLite store starts from the spend already recorded there."""
        expensive()
        db = tmp_path / "audit.db"
        budget = Budget(tag="cost_center", value="cs-eu", usd=0.0001, per="day")
        prompt = Prompt(messages=[user("x" * 200)])
        first = Client([Route(fake.openai(), model="pricey-model")], sinks=[SQLiteSink(db)], budgets=[budget])
        first.complete(prompt, tags=TAGS, max_tokens=8)
        first.close()
        second = Client([Route(fake.openai(), model="pricey-model")], sinks=[SQLiteSink(db)], budgets=[budget])
        with pytest.raises(BudgetExceededError):
            second.complete(prompt, tags=TAGS, max_tokens=8)
        second.close()
        assert len(fake.requests) == 1
