"""Spend budgets per tag value, checked before every call.

A :class:`Budget` caps the spend of one tag value (``cost_center="cs-eu"``), or of
each value of a tag separately (``value=None``: every user gets their own cap), per
UTC day or month. :class:`BudgetGuard` keeps the running totals in memory, so
:meth:`BudgetGuard.check` costs a few dict lookups per budget. With a
:class:`SpendStore` (the audit database every process of a fleet writes to), each
total is seeded from the store when its window opens and re-read at most every
``refresh`` seconds, so the fleet shares one budget, approximately: spend by other
processes shows up within ``refresh`` seconds plus the sinks' write lag.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from thinllm.errors import BudgetExceededError, ConfigurationError
from thinllm.pricing._model import Number, to_decimal

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from thinllm._tags import Tags

__all__ = ["Budget", "BudgetGuard", "SpendStore", "window_of"]

logger = logging.getLogger("thinllm")

Period = Literal["day", "month"]
_DAY = 86_400
_ZERO = Decimal(0)


@runtime_checkable
class SpendStore(Protocol):
    """Where a fleet's spend is recorded: the audit store (SQLite or PostgreSQL sink).

    ``spent`` returns the summed ``cost_usd`` of the events whose tag ``tag`` equals
    ``value`` and whose ``ts`` is at or after ``since`` (an aware UTC datetime).
    Unpriced events count as zero. It is called once per budget window and then at
    most every ``refresh`` seconds, never on every call.
    """

    def spent(self, tag: str, value: str, since: datetime) -> Decimal:
        """Total USD spent by calls tagged ``tag=value`` since ``since``."""
        ...


@dataclass(frozen=True, slots=True)
class Budget:
    """A spend cap for one tag value per UTC day or month.

    >>> Budget(tag="cost_center", value="cs-eu", usd=50, per="day")
    Budget(tag='cost_center', value='cs-eu', usd=Decimal('50'), per='day', soft=0.8)

    ``value=None`` caps each value of the tag separately (e.g. ``tag="user"``: every
    user gets ``usd`` per period). ``soft`` is the share of the cap at which one
    warning per window is logged (``None`` for no warning). Calls without the tag are
    not limited by this budget. Days start at 00:00 UTC; months on the 1st.
    """

    tag: str
    value: str | None
    usd: Decimal
    per: Period
    soft: float | None

    def __init__(
        self,
        *,
        tag: str,
        value: str | None = None,
        usd: Number,
        per: Period = "day",
        soft: float | None = 0.8,
    ) -> None:
        if not isinstance(tag, str) or not tag:
            raise ConfigurationError("Budget(tag=...) needs a tag name, e.g. 'cost_center'")
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(f"Budget(value=...) must be a string, got {value!r}")
        limit = to_decimal(usd, "Budget(usd=...)")
        if limit <= 0:
            raise ConfigurationError("Budget(usd=...) must be more than 0")
        if per not in ("day", "month"):
            raise ConfigurationError(f"Budget(per=...) must be 'day' or 'month', got {per!r}")
        if soft is not None and not (0 < soft < 1):
            raise ConfigurationError(
                f"Budget(soft=...) is a share of the cap in (0, 1), got {soft}"
            )
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "usd", limit)
        object.__setattr__(self, "per", per)
        object.__setattr__(self, "soft", soft)

    @property
    def soft_usd(self) -> Decimal | None:
        """The spend at which the soft warning is logged."""
        return None if self.soft is None else self.usd * Decimal(str(self.soft))

    def label(self) -> str:
        """How messages name this budget; never shows a call's own tag value."""
        value = repr(self.value) if self.value is not None else f"<each {self.tag}>"
        return f"{self.tag}={value} (${self.usd}/{self.per})"


def window_of(per: Period, now: float) -> tuple[float, float]:
    """The ``[start, end)`` epoch seconds of the UTC day or month containing ``now``."""
    if per == "day":
        start = (now // _DAY) * _DAY  # POSIX time has no leap seconds: days are exact
        return start, start + _DAY
    t = datetime.fromtimestamp(now, UTC)
    first = datetime(t.year, t.month, 1, tzinfo=UTC)
    nxt = datetime(t.year + (t.month == 12), t.month % 12 + 1, 1, tzinfo=UTC)
    return first.timestamp(), nxt.timestamp()


@dataclass(slots=True)
class _Window:
    """Running total of one budget (and one tag value) in one period window."""

    start: float
    end: float
    base: Decimal = _ZERO  # the store's total at the last refresh
    local: Decimal = _ZERO  # recorded in this process since the last refresh
    refreshed_at: float = float("-inf")
    refreshing: bool = False
    warned: bool = False

    @property
    def total(self) -> Decimal:
        return self.base + self.local


class BudgetGuard:
    """Enforces budgets: :meth:`check` before sending, :meth:`record` after each call.

    ``store`` (optional) seeds and refreshes the totals so a fleet shares the budget;
    without one, totals are this process's spend since it started. ``refresh`` is the
    most seconds between two reads of the store for one total. ``clock`` returns
    epoch seconds (injectable for tests). A store that fails is logged and the cached
    total kept: budgets fail open rather than stopping every call.
    """

    def __init__(
        self,
        budgets: Iterable[Budget],
        store: SpendStore | None = None,
        *,
        clock: Callable[[], float] = time.time,
        refresh: float = 30.0,
    ) -> None:
        self.budgets: tuple[Budget, ...] = tuple(budgets)
        for b in self.budgets:
            if not isinstance(b, Budget):
                raise ConfigurationError(
                    f"budgets= takes thinllm.Budget objects, got {type(b).__name__}"
                )
        if refresh < 0:
            raise ConfigurationError("BudgetGuard(refresh=...) must be >= 0 seconds")
        self.store = store
        self.refresh = refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._soft = tuple(b.soft_usd for b in self.budgets)
        self._windows: dict[tuple[int, str], _Window] = {}
        self._sweep_at = 1024

    @classmethod
    def from_sinks(
        cls,
        budgets: Iterable[Budget],
        sinks: Iterable[object],
        *,
        clock: Callable[[], float] = time.time,
        refresh: float = 30.0,
    ) -> BudgetGuard:
        """A guard whose store is the first sink that implements :class:`SpendStore`."""
        store = next((s for s in sinks if isinstance(s, SpendStore)), None)
        return cls(budgets, store, clock=clock, refresh=refresh)

    def __bool__(self) -> bool:
        return bool(self.budgets)

    def check(self, tags: Tags) -> None:
        """Raise :class:`~thinllm.errors.BudgetExceededError` if a matching budget is used up."""
        if not self.budgets:
            return
        now = self._clock()
        for i, budget in enumerate(self.budgets):
            value = tags.get(budget.tag)
            if value is None or (budget.value is not None and value != budget.value):
                continue
            window = self._window(i, budget, value, now)
            total = window.total
            self._maybe_warn(i, window, total)
            if total >= budget.usd:
                raise BudgetExceededError(
                    _exceeded_message(budget, total, window.end),
                    tag=budget.tag,
                    value=value,
                    spent=total,
                    limit=budget.usd,
                )

    def record(self, tags: Tags, cost: Decimal | None, ts: float | datetime | None = None) -> None:
        """Add one call's cost to every matching budget (``None``, unpriced, adds nothing).

        ``ts`` is when the call happened (epoch seconds or an aware datetime; default
        now): a call that started before midnight UTC counts for the old day.
        """
        if not self.budgets or not cost:
            return
        when = self._clock() if ts is None else ts.timestamp() if isinstance(ts, datetime) else ts
        for i, budget in enumerate(self.budgets):
            value = tags.get(budget.tag)
            if value is None or (budget.value is not None and value != budget.value):
                continue
            window = self._window(i, budget, value, when, refresh=False)
            if not (window.start <= when < window.end):
                continue  # an earlier window: the store has it, the live total does not
            with self._lock:
                window.local += cost
            self._maybe_warn(i, window, window.total)

    def spent(self, budget: Budget, value: str | None = None) -> Decimal:
        """The current total of ``budget`` (for ``value`` when it caps each value)."""
        i = self.budgets.index(budget)
        key_value = budget.value if budget.value is not None else value
        if key_value is None:
            raise ConfigurationError(f"budget {budget.label()} needs value= to report a total")
        return self._window(i, budget, key_value, self._clock()).total

    # -- internals -----------------------------------------------------------------

    def _window(
        self, i: int, budget: Budget, value: str, now: float, *, refresh: bool = True
    ) -> _Window:
        key = (i, value)
        window = self._windows.get(key)
        if window is None or now >= window.end:
            with self._lock:
                window = self._windows.get(key)
                if window is None or now >= window.end:
                    start, end = window_of(budget.per, now)
                    window = _Window(start, end)
                    self._windows[key] = window
                    self._maybe_sweep(now)
        if (
            refresh
            and self.store is not None
            and not window.refreshing
            and now - window.refreshed_at >= self.refresh
        ):
            self._refresh(budget, value, window, now)
        return window

    def _refresh(self, budget: Budget, value: str, window: _Window, now: float) -> None:
        store = self.store
        assert store is not None
        with self._lock:
            if window.refreshing:
                return  # another thread is reading the store for this total
            window.refreshing = True
            snapshot = window.local
        try:
            total = store.spent(budget.tag, value, datetime.fromtimestamp(window.start, UTC))
        except Exception as exc:  # a broken store must not stop calls: keep the cached total
            logger.warning(
                "thinllm: could not read spend for budget %s from the store (%s); "
                "using the cached total until the next refresh",
                budget.label(),
                type(exc).__name__,
            )
            total = None
        with self._lock:
            window.refreshing = False
            window.refreshed_at = now
            if total is not None:
                window.base = to_decimal(total, "SpendStore.spent()")
                # Costs recorded while the store was being read are not in its total yet.
                window.local -= snapshot

    def _maybe_warn(self, i: int, window: _Window, total: Decimal) -> None:
        soft = self._soft[i]
        if window.warned or soft is None or total < soft:
            return
        budget = self.budgets[i]
        window.warned = True
        logger.warning(
            "thinllm: budget %s is at %.0f%% ($%s of $%s this %s, UTC); calls are refused at 100%%",
            budget.label(),
            float(total / budget.usd * 100),
            _usd(total),
            budget.usd,
            budget.per,
        )

    def _maybe_sweep(self, now: float) -> None:
        # Per-value budgets (each user...) create one total per value; drop ended windows
        # now and then so memory stays flat over a long-running process.
        if len(self._windows) < self._sweep_at:
            return
        self._windows = {k: w for k, w in self._windows.items() if w.end > now}
        self._sweep_at = max(1024, 2 * len(self._windows))


def _usd(amount: Decimal) -> str:
    return f"{amount:.2f}" if amount >= 1 else f"{amount:.6f}".rstrip("0").rstrip(".")


def _exceeded_message(budget: Budget, total: Decimal, end: float) -> str:
    resets = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"budget {budget.label()} is used up: ${_usd(total)} spent of ${budget.usd} this "
        f"{budget.per}; nothing was sent. It resets at {resets}. Raise the budget, pass "
        "fallback=... to hand the work to the prior workflow, or wait for the reset."
    )
