"""Run batch operations against a route under the client's retry and circuit policy.

Batch-level requests (create, status, results, cancel) are retried like any call:
the route's SDK client has its own retries off, thinllm's ``Retry`` decides, the
route's circuit breaker counts the failures, and a request that still fails surfaces
as :class:`~thinllm.RoutesExhaustedError` chained to the vendor's error. They are
not audit events themselves: the items are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._call import Call
from .._retry import RetryableAttempt
from .._routing import _NextRoute, _Stop
from .._tags import EMPTY
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .._client import Client
    from .._route import Route
    from ._wire import Op, Steps

__all__ = ["arun", "run"]


def _op_call(client: Client, route: Route) -> Call:
    """A throwaway call that collects the attempts of one batch-level request."""
    return Call(
        prompt=None, tags=EMPTY, options={}, routes=[route], retry=None, started=client._clock()
    )


def _one(client: Client, route: Route, op: Op) -> Any:
    call = _op_call(client, route)
    breaker = client._breakers[route.name]

    def once(timeout: float | None, t0: float) -> Any:
        try:
            value = op.call(route.sdk)
            if op.collect:
                value = list(value)
        except Exception as exc:
            client._after_failure(call, route, breaker, exc, t0)
        breaker.success()
        return value

    try:
        return client._try_route(call, route, once)
    except (RetryableAttempt, _NextRoute, _Stop) as exc:
        error = client._exhausted(call, exc)
        raise error from error.__cause__


async def _aone(client: Client, route: Route, op: Op) -> Any:
    call = _op_call(client, route)
    breaker = client._breakers[route.name]

    async def once(timeout: float | None, t0: float) -> Any:
        try:
            value = await op.call(route.sdk)
            if op.collect:
                value = [item async for item in value]
        except Exception as exc:
            client._after_failure(call, route, breaker, exc, t0)
        breaker.success()
        return value

    try:
        return await client._atry_route(call, route, once)
    except (RetryableAttempt, _NextRoute, _Stop) as exc:
        error = client._exhausted(call, exc)
        raise error from error.__cause__


def run(client: Client, route: Route, steps: Steps) -> Any:
    """Drive ``steps`` with a sync client; returns the generator's value."""
    if route.is_async:
        raise ConfigurationError(
            f"route {route.name!r} holds an async client: use the async methods "
            "(await job.wait_async(), job.aresults(), ...)"
        )
    try:
        op = next(steps)
        while True:
            op = steps.send(_one(client, route, op))
    except StopIteration as done:
        return done.value


async def arun(client: Client, route: Route, steps: Steps) -> Any:
    """Drive ``steps`` with an async client (a sync one runs in a worker thread)."""
    if not route.is_async:
        import asyncio

        return await asyncio.to_thread(run, client, route, steps)
    try:
        op = next(steps)
        while True:
            op = steps.send(await _aone(client, route, op))
    except StopIteration as done:
        return done.value
