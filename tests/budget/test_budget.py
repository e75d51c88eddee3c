"""Spend budgets: limits per tag value and period, soft warnings, and fleet totals."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from thinllm._budget import Budget, BudgetGuard, SpendStore, window_of
from thinllm._tags import Tags
from thinllm.errors import BudgetExceededError, ConfigurationError

# 2026-11-28 12:00:00 UTC
NOON = datetime(2026, 11, 28, 12, tzinfo=UTC).timestamp()
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC).timestamp()
CS_EU = Tags(user="alice@corp", workflow="triage", cost_center="cs-eu")


class Clock:
    """A hand-driven clock (epoch seconds)."""

    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Store:
    """A fake audit store: a list of (tag, value, ts, cost) rows, counting its queries."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, float, Decimal]] = []
        self.queries: list[tuple[str, str, datetime]] = []
        self.fail = False

    def add(self, tag: str, value: str, ts: float, usd: str) -> None:
        self.rows.append((tag, value, ts, Decimal(usd)))

    def spent(self, tag: str, value: str, since: datetime) -> Decimal:
        self.queries.append((tag, value, since))
        if self.fail:
            raise ConnectionError("database is down")
        return sum(
            (c for t, v, ts, c in self.rows if t == tag and v == value and ts >= since.timestamp()),
            Decimal(0),
        )


def guard(*budgets: Budget, store: Store | None = None, clock: Clock | None = None) -> BudgetGuard:
    return BudgetGuard(budgets, store, clock=clock or Clock(), refresh=30)


class TestBudget:
    def test_usd_is_a_decimal(self) -> None:
        """Limits are exact Decimals whatever number type the user wrote."""
        assert Decimal("12.5") == Budget(tag="cost_center", value="x", usd=12.5).usd

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"tag": "", "usd": 1}, id="no-tag"),
            pytest.param({"tag": "t", "usd": 0}, id="zero"),
            pytest.param({"tag": "t", "usd": -5}, id="negative"),
            pytest.param({"tag": "t", "usd": 1, "per": "week"}, id="period"),
            pytest.param({"tag": "t", "usd": 1, "soft": 1.5}, id="soft"),
            pytest.param({"tag": "t", "usd": 1, "value": 3}, id="value-type"),
        ],
    )
    def test_invalid_budgets_are_refused(self, kwargs: dict[str, object]) -> None:
        """A mistyped budget fails at construction, not silently at the first call."""
        with pytest.raises(ConfigurationError):
            Budget(**kwargs)  # type: ignore[arg-type]

    def test_is_immutable_and_hashable(self) -> None:
        """Budgets can be shared between clients and used as dict keys."""
        b = Budget(tag="cost_center", value="cs-eu", usd=50)
        assert {b: 1}[Budget(tag="cost_center", value="cs-eu", usd="50")] == 1
        with pytest.raises(AttributeError):
            b.usd = Decimal(1)  # type: ignore[misc]


class TestWindows:
    def test_day_starts_at_midnight_utc(self) -> None:
        """A daily budget resets at 00:00 UTC, whatever the server's time zone."""
        start, end = window_of("day", NOON)
        assert datetime(2026, 11, 28, tzinfo=UTC).timestamp() == start
        assert end == MIDNIGHT

    @pytest.mark.parametrize(
        ("now", "first", "nxt"),
        [
            pytest.param(datetime(2026, 11, 28, 12), (2026, 11, 1), (2026, 12, 1), id="nov"),
            pytest.param(datetime(2026, 12, 31, 23, 59), (2026, 12, 1), (2027, 1, 1), id="dec"),
            pytest.param(datetime(2028, 2, 29), (2028, 2, 1), (2028, 3, 1), id="leap"),
        ],
    )
    def test_month_starts_on_the_first(
        self, now: datetime, first: tuple[int, int, int], nxt: tuple[int, int, int]
    ) -> None:
        """A monthly budget resets on the 1st at 00:00 UTC, across year ends too."""
        start, end = window_of("month", now.replace(tzinfo=UTC).timestamp())
        assert datetime(*first, tzinfo=UTC).timestamp() == start
        assert datetime(*nxt, tzinfo=UTC).timestamp() == end


class TestGuardInMemory:
    def test_blocks_once_the_limit_is_reached(self) -> None:
        """After spending the budget, the next call for that cost center is refused."""
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1))
        g.check(CS_EU)
        g.record(CS_EU, Decimal("0.6"))
        g.check(CS_EU)
        g.record(CS_EU, Decimal("0.4"))
        with pytest.raises(BudgetExceededError) as info:
            g.check(CS_EU)
        err = info.value
        assert (err.tag, err.value, err.spent, err.limit) == (
            "cost_center",
            "cs-eu",
            Decimal("1.0"),
            Decimal(1),
        )

    def test_message_says_which_budget_and_what_to_do(self) -> None:
        """The error names the budget, the spend, the limit, the reset time and the fixes."""
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=50))
        g.record(CS_EU, Decimal("50.25"))
        with pytest.raises(BudgetExceededError) as info:
            g.check(CS_EU)
        message = str(info.value)
        for part in ("cost_center='cs-eu'", "$50.25", "$50", "2026-11-29 00:00 UTC", "fallback="):
            assert part in message

    def test_other_values_and_untagged_calls_are_not_limited(self) -> None:
        """One cost center's budget never blocks another's calls, or calls without the tag."""
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1))
        g.record(CS_EU, Decimal(5))
        g.check(Tags(cost_center="cs-us"))
        g.check(Tags(user="bob"))

    def test_value_none_caps_each_value_separately(self) -> None:
        """A per-user budget blocks the user who spent it, not everyone."""
        g = guard(Budget(tag="user", usd=1))
        g.record(Tags(user="alice@corp"), Decimal(1))
        g.check(Tags(user="bob@corp"))
        with pytest.raises(BudgetExceededError) as info:
            g.check(Tags(user="alice@corp"))
        assert "alice" not in str(info.value)  # a user's id is PII: not in the message
        assert info.value.value == "alice@corp"

    def test_resets_at_the_next_window(self) -> None:
        """A budget used up today is available again after midnight UTC."""
        clock = Clock()
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1), clock=clock)
        g.record(CS_EU, Decimal(1))
        with pytest.raises(BudgetExceededError):
            g.check(CS_EU)
        clock.now = MIDNIGHT
        g.check(CS_EU)

    def test_cost_of_a_call_from_yesterday_is_not_counted_today(self) -> None:
        """A call started before midnight and recorded after it does not eat today's budget."""
        clock = Clock(MIDNIGHT + 5)
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1), clock=clock)
        g.check(CS_EU)
        g.record(CS_EU, Decimal(1), ts=MIDNIGHT - 1)
        g.check(CS_EU)
        g.record(CS_EU, Decimal(1), ts=datetime.fromtimestamp(MIDNIGHT + 1, UTC))
        with pytest.raises(BudgetExceededError):
            g.check(CS_EU)

    def test_unpriced_calls_add_nothing(self) -> None:
        """A call with cost None (unpriced model) neither counts nor crashes."""
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1))
        g.record(CS_EU, None)
        assert Decimal(0) == g.spent(g.budgets[0])

    def test_every_matching_budget_applies(self) -> None:
        """A call is refused when any of its budgets (cost center or workflow) is used up."""
        team = Budget(tag="cost_center", value="cs-eu", usd=100)
        flow = Budget(tag="workflow", value="triage", usd=1, per="month")
        g = guard(team, flow)
        g.record(CS_EU, Decimal(2))
        assert Decimal(2) == g.spent(team)
        with pytest.raises(BudgetExceededError) as info:
            g.check(CS_EU)
        assert info.value.tag == "workflow"

    def test_no_budgets_is_a_no_op(self) -> None:
        """A client without budgets pays nothing for the guard."""
        g = guard()
        assert not g
        g.check(CS_EU)
        g.record(CS_EU, Decimal(1))


class TestSoftThreshold:
    def test_warns_once_per_window(self, caplog: pytest.LogCaptureFixture) -> None:
        """Crossing 80% logs one warning on the 'thinllm' logger, not one per call."""
        clock = Clock()
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=10), clock=clock)
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            g.record(CS_EU, Decimal("7.9"))
            assert caplog.records == []
            g.record(CS_EU, Decimal("0.2"))
            g.check(CS_EU)
            g.record(CS_EU, Decimal("0.1"))
            assert len(caplog.records) == 1
            assert "cost_center='cs-eu'" in caplog.records[0].getMessage()
            assert "81%" in caplog.records[0].getMessage()
            clock.now = MIDNIGHT  # a new day re-arms the warning
            g.record(CS_EU, Decimal(9))
            assert len(caplog.records) == 2

    def test_soft_none_never_warns(self, caplog: pytest.LogCaptureFixture) -> None:
        """soft=None turns the early warning off."""
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=10, soft=None))
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            g.record(CS_EU, Decimal("9.99"))
            g.check(CS_EU)
        assert caplog.records == []

    def test_per_user_warning_does_not_log_the_user(self, caplog: pytest.LogCaptureFixture) -> None:
        """Tag values from calls (user ids are PII) never reach the log."""
        g = guard(Budget(tag="user", usd=1))
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            g.record(Tags(user="alice@corp"), Decimal("0.9"))
        assert len(caplog.records) == 1
        assert "alice" not in caplog.text


class TestGuardWithStore:
    def test_seeds_from_the_store_when_the_window_opens(self) -> None:
        """Spend recorded earlier today by other processes counts against the budget."""
        store = Store()
        store.add("cost_center", "cs-eu", NOON - 3600, "0.99")
        store.add("cost_center", "cs-eu", NOON - 86_400, "100")  # yesterday: ignored
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1), store=store)
        g.check(CS_EU)
        g.record(CS_EU, Decimal("0.01"))
        with pytest.raises(BudgetExceededError):
            g.check(CS_EU)
        assert [("cost_center", "cs-eu", datetime(2026, 11, 28, tzinfo=UTC))] == store.queries

    def test_reads_the_store_at_most_every_refresh_seconds(self) -> None:
        """The database is queried once per refresh interval, not on every call."""
        clock = Clock()
        store = Store()
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1), store=store, clock=clock)
        for _ in range(100):
            g.check(CS_EU)
        assert len(store.queries) == 1
        clock.now += 29
        g.check(CS_EU)
        assert len(store.queries) == 1
        clock.now += 1
        g.check(CS_EU)
        assert len(store.queries) == 2

    def test_fleet_spend_appears_after_a_refresh(self) -> None:
        """Another process's spend blocks this one within one refresh interval."""
        clock = Clock()
        store = Store()
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1), store=store, clock=clock)
        g.check(CS_EU)
        store.add("cost_center", "cs-eu", NOON + 1, "1")  # another process
        g.check(CS_EU)  # cached total: still allowed
        clock.now += 30
        with pytest.raises(BudgetExceededError):
            g.check(CS_EU)

    def test_own_spend_is_not_double_counted_after_a_refresh(self) -> None:
        """Once the sink has stored this process's calls, a refresh replaces, not adds."""
        clock = Clock()
        store = Store()
        budget = Budget(tag="cost_center", value="cs-eu", usd=10)
        g = guard(budget, store=store, clock=clock)
        g.check(CS_EU)
        g.record(CS_EU, Decimal(3))
        store.add("cost_center", "cs-eu", NOON, "3")  # the audit sink wrote the same call
        assert Decimal(3) == g.spent(budget)
        clock.now += 30
        assert Decimal(3) == g.spent(budget)

    def test_store_failure_keeps_the_cached_total(self, caplog: pytest.LogCaptureFixture) -> None:
        """A database outage logs a warning and budgets keep working from memory."""
        clock = Clock()
        store = Store()
        g = guard(Budget(tag="cost_center", value="cs-eu", usd=1), store=store, clock=clock)
        g.record(CS_EU, Decimal("0.5"))
        store.fail = True
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            g.check(CS_EU)
        assert "ConnectionError" in caplog.text
        g.record(CS_EU, Decimal("0.5"))
        with pytest.raises(BudgetExceededError):
            g.check(CS_EU)

    def test_from_sinks_finds_the_store(self) -> None:
        """A client given an audit store as a sink uses it for budgets automatically."""
        store = Store()
        assert isinstance(store, SpendStore)
        g = BudgetGuard.from_sinks([Budget(tag="t", usd=1)], [print, store], clock=Clock())
        assert store is g.store
        assert BudgetGuard.from_sinks([], [print]).store is None
