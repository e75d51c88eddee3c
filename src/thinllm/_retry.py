"""Retry and circuit-breaker policies, and the per-route breaker state.

Retries run on tenacity (imported lazily, never in a public signature): exponential
backoff with jitter, a server's ``retry-after`` honoured up to the policy's maximum,
and a stop rule that also respects the call's deadline. The vendor SDKs' own retries
are switched off on every route, so each attempt recorded is exactly one request.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:
    from ._failures import Failure

__all__ = ["Breaker", "Circuit", "Retry"]


@dataclass(frozen=True, slots=True)
class Retry:
    """How often and how patiently to retry one route.

    ``attempts`` counts tries per route (1 = no retry). Waits grow from ``initial``
    doubling up to ``maximum`` seconds, with full jitter when ``jitter``. A server's
    ``retry-after`` is honoured, capped at ``maximum``. ``deadline`` (seconds) bounds
    the whole call: every retry and every route.
    """

    attempts: int = 3
    initial: float = 0.5
    maximum: float = 8.0
    jitter: bool = True
    deadline: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.attempts, int) or self.attempts < 1:
            raise ConfigurationError("Retry(attempts=...) must be an integer >= 1 (1 = no retry)")
        if self.initial < 0 or self.maximum < 0:
            raise ConfigurationError("Retry(initial=..., maximum=...) must be >= 0 seconds")
        if self.deadline is not None and self.deadline <= 0:
            raise ConfigurationError("Retry(deadline=...) must be > 0 seconds or None")

    def backoff(self, retry_number: int, retry_after: float | None, rand: float) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.maximum)
        ceiling = min(self.maximum, self.initial * 2.0 ** (retry_number - 1))
        return ceiling * rand if self.jitter else ceiling


NO_RETRY = Retry(attempts=1)


@dataclass(frozen=True, slots=True)
class Circuit:
    """Skip a route after ``failures`` consecutive failures, for ``cooldown`` seconds.

    After the cool-down one trial call is let through (half-open): success closes the
    circuit, failure opens it again. This is what stops a fleet hammering a vendor
    that is down.
    """

    failures: int = 5
    cooldown: float = 30.0

    def __post_init__(self) -> None:
        if self.failures < 1 or self.cooldown < 0:
            raise ConfigurationError("Circuit(failures>=1, cooldown>=0)")


class Breaker:
    """The live state of one route's circuit. Thread-safe; never awaits under its lock.

    ``consecutive`` counts failed *attempts* (a retry is an attempt), so a fleet stops
    hammering a vendor within the first few calls once it is down. A half-open trial
    that never reports back (its caller was cancelled or interrupted) expires after
    another ``cooldown``, so the circuit cannot wedge open.
    """

    __slots__ = ("_lock", "_opened_at", "_trial_at", "circuit", "consecutive")

    def __init__(self, circuit: Circuit) -> None:
        self.circuit = circuit
        self.consecutive = 0
        self._opened_at: float | None = None
        self._trial_at: float | None = None
        self._lock = threading.Lock()

    def state(self, now: float) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"``."""
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if now - self._opened_at >= self.circuit.cooldown:
                return "half-open"
            return "open"

    def allow(self, now: float) -> bool:
        """Whether a request may go to this route now (claims the half-open trial)."""
        if self._opened_at is None:  # fast path, no lock: the common case
            return True
        with self._lock:
            if self._opened_at is None:
                return True
            cooldown = self.circuit.cooldown
            if now - self._opened_at < cooldown:
                return False
            if self._trial_at is not None and now - self._trial_at < cooldown:
                return False  # one trial at a time
            self._trial_at = now
            return True

    def success(self) -> None:
        """Record a success: the circuit closes."""
        if self.consecutive or self._opened_at is not None:
            with self._lock:
                self.consecutive = 0
                self._opened_at = None
                self._trial_at = None

    def failure(self, now: float) -> None:
        """Record a failure that says the route is unhealthy."""
        with self._lock:
            self.consecutive += 1
            if self._trial_at is not None or self.consecutive >= self.circuit.failures:
                self._opened_at = now
                self._trial_at = None

    def release_trial(self) -> None:
        """Give back a claimed half-open trial that was not used (e.g. deadline hit)."""
        with self._lock:
            self._trial_at = None


class RetryableAttempt(Exception):
    """Internal: this attempt failed in a way worth retrying on the same route."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.error_type)
        self.failure = failure


def tenacity_kwargs(
    policy: Retry,
    *,
    deadline_at: float | None,
    clock: Callable[[], float],
    rng: random.Random,
    done: int = 0,
) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` implementing ``policy``.

    ``done`` is how many attempts already ran before tenacity took over (the client
    makes the first attempt without any retry machinery). Kept here so the sync and
    async loops build identical policies.
    """
    import tenacity

    def wait(state: Any) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        retry_after = exc.failure.retry_after if isinstance(exc, RetryableAttempt) else None
        return policy.backoff(state.attempt_number + done, retry_after, rng.random())

    def stop(state: Any) -> bool:
        if state.attempt_number + done >= policy.attempts:
            return True
        return deadline_at is not None and clock() + state.upcoming_sleep >= deadline_at

    return {
        "stop": stop,
        "wait": wait,
        "retry": tenacity.retry_if_exception_type(RetryableAttempt),
        "reraise": True,
    }
