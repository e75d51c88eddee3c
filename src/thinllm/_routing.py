"""The routes loop: circuit, retry and the vendor call, route after route.

:class:`RoutingSteps` is the part of :class:`~thinllm.Client` that tries one route after
another for a prepared call. The sync, async and streaming entry points (and batch
submission) share it and differ only in the per-attempt body they pass in:

    each route (PII policy, sync/async kind) -> circuit check -> deadline
    -> first attempt directly -> tenacity for the remaining attempts
    -> classify the failure: retry here, next route, or stop
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from ._failures import classify
from ._prompt import unsendable
from ._reply import new_attempt
from ._retry import Breaker, Circuit, Retry, RetryableAttempt, tenacity_kwargs
from .errors import ConfigurationError, RequestRejectedError, RoutesExhaustedError

if TYPE_CHECKING:
    import random

    from ._call import Call
    from ._reply import Attempt
    from ._route import Route
    from .providers import Parsed

__all__ = ["RoutingSteps"]

T = TypeVar("T")


class _Stop(Exception):
    """Internal: end the routes loop now (deadline reached or request rejected)."""


class _NextRoute(Exception):
    """Internal: this route is done; try the next one."""


class RoutingSteps:
    """Route-by-route execution of a prepared :class:`~thinllm._call.Call`."""

    retry: Retry
    circuit: Circuit
    _clock: Callable[[], float]
    _sleep: Callable[[float], None]
    _asleep: Callable[[float], Awaitable[None]]
    _rng: random.Random
    _breakers: dict[str, Breaker]

    def _candidates(self, call: Call, *, is_async: bool) -> Iterable[Route]:
        """The call's routes in order, minus those the PII policy rules out (recorded)."""
        for route in call.routes:
            if call.pii_routes is not None and route.name not in call.pii_routes:
                call.attempt(
                    route, status=None, error=None, latency=0.0, skipped="pii route policy"
                )
                continue
            if route.is_async != is_async:
                raise _wrong_kind(route)
            yield route

    def _each_route(self, call: Call, run: Callable[[Route], T]) -> T:
        """Run ``run(route)`` on each route in turn until one answers (sync).

        A route is left when its retries are used up or its failure is one another route
        could fix; the loop stops at once on a rejected request or a passed deadline.
        """
        last: BaseException | None = None
        for route in self._candidates(call, is_async=False):
            try:
                return run(route)
            except (RetryableAttempt, _NextRoute) as exc:
                last = exc
            except _Stop as exc:
                last = exc
                break
        raise self._exhausted(call, last)

    async def _aeach_route(self, call: Call, run: Callable[[Route], Awaitable[T]]) -> T:
        """Async :meth:`_each_route`."""
        last: BaseException | None = None
        for route in self._candidates(call, is_async=True):
            try:
                return await run(route)
            except (RetryableAttempt, _NextRoute) as exc:
                last = exc
            except _Stop as exc:
                last = exc
                break
        raise self._exhausted(call, last)

    def _before_attempt(self, call: Call, route: Route, breaker: Breaker) -> float | None:
        """Check deadline and circuit; returns the per-attempt timeout (or ``None``)."""
        now = self._clock()
        if call.deadline_at is not None and now >= call.deadline_at:
            call.attempt(route, status=None, error=None, latency=0.0, skipped="deadline")
            raise _Stop("deadline")
        if not breaker.allow(now):
            call.attempt(route, status=None, error=None, latency=0.0, skipped="circuit open")
            raise _NextRoute("circuit open")
        return call.deadline_at - now if call.deadline_at is not None else None

    def _after_failure(
        self, call: Call, route: Route, breaker: Breaker, exc: BaseException, t0: float
    ) -> NoReturn:
        failure = classify(exc)
        latency = self._clock() - t0
        if failure is None:
            breaker.release_trial()
            call.attempt(
                route, status=None, error=type(exc).__name__, latency=latency, message=str(exc)
            )
            if isinstance(exc, UnicodeEncodeError):
                # The SDK could not encode the request body (a surrogate in an option,
                # a tool schema or replayed tool-call arguments): bad input, not a vendor
                # failure, so no other route is tried.
                where = f"the request for route {route.name!r}"
                raise unsendable(exc, where, position=False) from None
            raise exc
        call.attempt(
            route,
            status=failure.status,
            error=failure.error_type,
            latency=latency,
            message=failure.message,
        )
        if failure.retryable:
            breaker.failure(self._clock())
            raise RetryableAttempt(failure) from exc
        if failure.error_type == "malformed_response":
            breaker.failure(self._clock())  # garbage bodies are a route-health problem
        else:
            breaker.success()  # the vendor answered coherently: the route itself is healthy
        if failure.reroutable:
            raise _NextRoute(failure.error_type) from exc
        raise _Stop(failure.error_type) from exc

    def _after_success(
        self, call: Call, route: Route, breaker: Breaker, raw: Any, t0: float
    ) -> Parsed:
        try:
            parsed = route.adapter.parse(raw)
        except Exception as exc:
            latency = self._clock() - t0
            call.attempt(route, status=None, error="malformed_response", latency=latency)
            breaker.failure(self._clock())
            raise _NextRoute("malformed_response") from exc
        # Call.attempt(route, status=200, error=None, latency=...) without its keyword
        # arguments: a success has no message to scrub.
        latency_ms = (self._clock() - t0) * 1000.0
        call.attempts.append(new_attempt(route.name, route.model, 200, None, latency_ms))
        breaker.success()
        return parsed

    def _try_route(self, call: Call, route: Route, once: Callable[[float | None, float], T]) -> T:
        """Run ``once(timeout, t0)`` under the route's retry policy (sync).

        The first attempt runs directly (no retry machinery on the happy path); only
        after a retryable failure does tenacity take over for the remaining attempts.
        """
        breaker = self._breaker_for(route)
        try:
            timeout = self._before_attempt(call, route, breaker)
            return once(timeout, self._clock())
        except RetryableAttempt as exc:
            return self._retry(call, route, breaker, once, exc)

    def _retry(
        self,
        call: Call,
        route: Route,
        breaker: Breaker,
        once: Callable[[float | None, float], T],
        first: RetryableAttempt,
    ) -> T:
        """Attempts after the first one failed with ``first`` (sync, under tenacity)."""
        policy = call.retry or route.retry or self.retry
        self._sleep(self._first_wait(call, policy, first))
        import tenacity

        for retry in tenacity.Retrying(sleep=self._sleep, **self._retry_kwargs(call, policy)):
            with retry:
                timeout = self._before_attempt(call, route, breaker)
                return once(timeout, self._clock())
        raise AssertionError("unreachable: tenacity re-raises the last failure")  # pragma: no cover

    async def _atry_route(
        self, call: Call, route: Route, once: Callable[[float | None, float], Awaitable[T]]
    ) -> T:
        """Async :meth:`_try_route`."""
        breaker = self._breaker_for(route)
        try:
            timeout = self._before_attempt(call, route, breaker)
            return await once(timeout, self._clock())
        except RetryableAttempt as exc:
            return await self._aretry(call, route, breaker, once, exc)

    async def _aretry(
        self,
        call: Call,
        route: Route,
        breaker: Breaker,
        once: Callable[[float | None, float], Awaitable[T]],
        first: RetryableAttempt,
    ) -> T:
        """Async :meth:`_retry`."""
        policy = call.retry or route.retry or self.retry
        await self._asleep(self._first_wait(call, policy, first))
        import tenacity

        async for retry in tenacity.AsyncRetrying(
            sleep=self._asleep, **self._retry_kwargs(call, policy)
        ):
            with retry:
                timeout = self._before_attempt(call, route, breaker)
                return await once(timeout, self._clock())
        raise AssertionError("unreachable: tenacity re-raises the last failure")  # pragma: no cover

    def _first_wait(self, call: Call, policy: Retry, exc: RetryableAttempt) -> float:
        """The wait before the second attempt, or re-raise when no retry is allowed."""
        if policy.attempts < 2:
            raise exc
        wait = policy.backoff(1, exc.failure.retry_after, self._rng.random())
        if call.deadline_at is not None and self._clock() + wait >= call.deadline_at:
            raise exc
        return wait

    def _retry_kwargs(self, call: Call, policy: Retry) -> dict[str, Any]:
        return tenacity_kwargs(
            policy, deadline_at=call.deadline_at, clock=self._clock, rng=self._rng, done=1
        )

    def _send(self, call: Call) -> tuple[Route, Any, Parsed]:
        """Try the routes in order (sync). Raises RoutesExhaustedError when all fail."""
        last: BaseException | None = None
        # Without a PII route policy, walk the list itself with _candidates' one check:
        # the generator (created, then closed after an early return) cost more than
        # the rest of the loop on a first-attempt success.
        routes = call.routes if call.pii_routes is None else self._candidates(call, is_async=False)
        for route in routes:
            if route.is_async:
                raise _wrong_kind(route)
            try:
                return self._send_route(call, route)
            except (RetryableAttempt, _NextRoute) as exc:
                last = exc
            except _Stop as exc:
                last = exc
                break
        raise self._exhausted(call, last)

    def _send_route(self, call: Call, route: Route) -> tuple[Route, Any, Parsed]:
        """One route of :meth:`_send`, as :meth:`_try_route` would run it but without
        building closures for a call that succeeds at once (the common case)."""
        method = route.adapter.method(route.sdk)
        kwargs = call.rendered[route.name]
        breaker = self._breakers.get(route.name) or self._breaker_for(route)
        timeout = self._before_attempt(call, route, breaker)
        try:
            return self._send_once(call, route, breaker, method, kwargs, timeout, self._clock())
        except RetryableAttempt as exc:
            once = partial(self._send_once, call, route, breaker, method, kwargs)
            return self._retry(call, route, breaker, once, exc)

    def _send_once(
        self,
        call: Call,
        route: Route,
        breaker: Breaker,
        method: Callable[..., Any],
        kwargs: dict[str, Any],
        timeout: float | None,
        t0: float,
    ) -> tuple[Route, Any, Parsed]:
        """One vendor request on ``route``, recorded as one attempt (sync)."""
        try:
            raw = method(**kwargs, timeout=timeout) if timeout else method(**kwargs)
        except Exception as exc:
            self._after_failure(call, route, breaker, exc, t0)
        return route, raw, self._after_success(call, route, breaker, raw, t0)

    async def _asend(self, call: Call) -> tuple[Route, Any, Parsed]:
        """Try the routes in order (async). Raises RoutesExhaustedError when all fail."""
        last: BaseException | None = None
        for route in self._candidates(call, is_async=True):
            try:
                return await self._asend_route(call, route)
            except (RetryableAttempt, _NextRoute) as exc:
                last = exc
            except _Stop as exc:
                last = exc
                break
        raise self._exhausted(call, last)

    async def _asend_route(self, call: Call, route: Route) -> tuple[Route, Any, Parsed]:
        """Async :meth:`_send_route`."""
        method = route.adapter.method(route.sdk)
        kwargs = call.rendered[route.name]
        breaker = self._breaker_for(route)
        timeout = self._before_attempt(call, route, breaker)
        try:
            return await self._asend_once(
                call, route, breaker, method, kwargs, timeout, self._clock()
            )
        except RetryableAttempt as exc:
            once = partial(self._asend_once, call, route, breaker, method, kwargs)
            return await self._aretry(call, route, breaker, once, exc)

    async def _asend_once(
        self,
        call: Call,
        route: Route,
        breaker: Breaker,
        method: Callable[..., Any],
        kwargs: dict[str, Any],
        timeout: float | None,
        t0: float,
    ) -> tuple[Route, Any, Parsed]:
        """Async :meth:`_send_once`."""
        try:
            raw = await (method(**kwargs, timeout=timeout) if timeout else method(**kwargs))
        except Exception as exc:
            self._after_failure(call, route, breaker, exc, t0)
        return route, raw, self._after_success(call, route, breaker, raw, t0)

    def _breaker_for(self, route: Route) -> Breaker:
        """The circuit state for ``route`` (routes passed per call get one on first use)."""
        breaker = self._breakers.get(route.name)
        if breaker is None:
            breaker = self._breakers.setdefault(route.name, Breaker(route.circuit or self.circuit))
        return breaker

    def _exhausted(self, call: Call, last: BaseException | None) -> RoutesExhaustedError:
        """The error that says which routes failed and why (chained to the vendor error)."""
        cause = last.__cause__ if last is not None and last.__cause__ is not None else last
        rejected = isinstance(last, _Stop) and str(last) != "deadline"
        summary = _summarise(call.attempts)
        if isinstance(last, _Stop) and str(last) == "deadline":
            message = f"the call's deadline passed before any route answered: {summary}"
        elif rejected:
            message = (
                f"the vendor rejected the request as invalid, so no retry or other route was "
                f"tried: {summary}. Fix the request (see the attempt's message)."
            )
        elif call.pii_routes is not None:
            message = (
                f"the prompt contains PII and every route allowed by the PII policy "
                f"{list(call.pii_routes)} failed (no fallback to a non-compliant route): {summary}"
            )
        else:
            message = f"every route failed: {summary}"
        error_cls = RequestRejectedError if rejected else RoutesExhaustedError
        error = error_cls(message, call.attempts)
        error.__cause__ = cause
        return error


def _wrong_kind(route: Route) -> ConfigurationError:
    """The error for a route whose client is async in a sync call, or the reverse."""
    return ConfigurationError(
        f"route {route.name!r} holds an async client: use acomplete()/astream()"
        if route.is_async
        else f"route {route.name!r} holds a sync client: use complete()/stream(), or "
        "build the route around AsyncAnthropic/AsyncOpenAI"
    )


def _summarise(attempts: Sequence[Attempt]) -> str:
    """``'a': 3 attempts, last overloaded_error (529); 'b': skipped (circuit open)``."""
    by_route: dict[str, list[Attempt]] = {}
    for a in attempts:
        by_route.setdefault(a.route, []).append(a)
    if not by_route:
        return "no route was tried"
    parts = []
    for name, tries in by_route.items():
        real = [a for a in tries if a.skipped is None]
        if not real:
            parts.append(f"{name!r}: skipped ({tries[-1].skipped})")
            continue
        last = real[-1]
        status = f" ({last.status})" if last.status is not None else ""
        n = len(real)
        parts.append(f"{name!r}: {n} attempt{'s' if n != 1 else ''}, last {last.error}{status}")
    return "; ".join(parts)
