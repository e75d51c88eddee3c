"""Property test: random fault schedules never break the reliability invariants.

Hypothesis draws 1-3 routes (either vendor), a schedule of faults and successes per
route, a retry policy, a circuit threshold, a network latency, an optional deadline,
a call mode and whether a fallback is given. Whatever it draws:

- exactly one audit event per call, agreeing with the reply or error;
- the vendor receives exactly one request per attempt that was not skipped;
- the outcome matches what happened (``ok`` iff the first route answered, ``rerouted``
  iff a later one did, ``fallback``/``error`` otherwise), and without a deadline the
  attempts are exactly what a reference model of the rules predicts;
- no call outlives its deadline (time is a fake clock; the simulated network honours
  the per-request timeout the client passes, as a socket would).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from relkit import KINDS, Harness, Kind, Mode, Vendor, tried

from thinllm import Circuit, Reply, RequestRejectedError, Retry, Route, RoutesExhaustedError
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

#: Distinct models per vendor so each route's faults can be aimed at it alone.
MODELS: dict[Vendor, tuple[str, ...]] = {
    "anthropic": ("claude-sonnet-5-5", "claude-haiku-4-5", "claude-opus-5"),
    "openai": ("gpt-6.1-terra", "gpt-6-sol", "gpt-6-luna"),
}
SUCCESS = "success"
#: Floating-point slack on the fake clock; the simulated network makes overrun exact.
SLACK = 1e-6


@dataclass(frozen=True)
class RoutePlan:
    """One route: its vendor, the faults it serves first, and what it does after."""

    vendor: Vendor
    faults: tuple[Kind, ...]
    then: Kind | None  # None: answers; a Kind: fails like that forever
    latency: float


@dataclass(frozen=True)
class Plan:
    """One drawn scenario."""

    routes: tuple[RoutePlan, ...]
    retry: Retry
    circuit_failures: int
    mode: Mode
    fallback: bool


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    mode: Mode = draw(st.sampled_from(["sync", "async", "stream", "astream"]))
    kind = st.sampled_from(KINDS)
    n = draw(st.integers(1, 3))
    routes = tuple(
        RoutePlan(
            vendor=draw(st.sampled_from(["anthropic", "openai"])),
            faults=tuple(draw(st.lists(kind, max_size=5))),
            then=draw(st.none() | kind),
            latency=draw(st.sampled_from([0.0, 0.0, 0.2, 1.0, 3.0])),
        )
        for _ in range(n)
    )
    deadline = draw(st.none() | st.floats(0.5, 12.0))
    retry = Retry(
        attempts=draw(st.integers(1, 4)),
        initial=draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])),
        maximum=draw(st.sampled_from([0.5, 2.0, 8.0])),
        jitter=draw(st.booleans()),
        deadline=deadline,
    )
    return Plan(routes, retry, draw(st.integers(1, 5)), mode, draw(st.booleans()))


def _reference(plan: Plan) -> list[tuple[int, str | None, str | None]]:
    """What the rules say happens without a deadline: ``(route, error, skipped)`` per attempt."""
    out: list[tuple[int, str | None, str | None]] = []
    for index, route in enumerate(plan.routes):
        schedule = list(route.faults)
        # Every earlier try on this route was a retryable failure (anything else leaves
        # the route), so the try number is also the breaker's consecutive-failure count.
        for consecutive in range(plan.retry.attempts):
            if consecutive >= plan.circuit_failures:
                out.append((index, None, "circuit open"))
                break
            kind = schedule.pop(0) if schedule else route.then
            if kind is None:
                out.append((index, None, None))
                return out
            out.append((index, kind.expect(route.vendor)[1], None))
            if kind.action == "stop":
                return out
            if kind.action == "reroute":
                break
    return out


def _run(plan: Plan) -> None:
    fake = FakeVendor()
    fake.reply("ok")
    latency: dict[Vendor, float] = {}
    harness = Harness(fake, plan.mode, latency=latency)
    sink = MemorySink()
    routes: list[Route] = []
    for index, rp in enumerate(plan.routes):
        model = MODELS[rp.vendor][index]
        harness.latency[rp.vendor] = rp.latency  # per SDK client, set as it is built
        routes.append(harness.route(rp.vendor, name=f"r{index}", model=model))
        for kind in rp.faults:
            fake.fail(kind.fault, model=model)
        if rp.then is not None:
            fake.fail(rp.then.fault, times=None, model=model)
    client = harness.client(
        routes,
        sink=sink,
        retry=plan.retry,
        circuit=Circuit(failures=plan.circuit_failures, cooldown=3600.0),
    )
    start = harness.clock()
    reply: Reply | None = None
    error: RoutesExhaustedError | None = None
    try:
        kwargs: dict[str, Any] = {"fallback": (lambda: "legacy")} if plan.fallback else {}
        reply = harness.call(client, **kwargs)
    except RoutesExhaustedError as exc:
        error = exc
    finally:
        harness.close()
    attempts = reply.attempts if reply is not None else error.attempts  # type: ignore[union-attr]

    # One audit event, agreeing with what the caller got.
    assert 1 == len(sink.events)
    event = sink.events[0]
    assert [a.as_dict() for a in attempts] == list(event.attempts)

    # Requests the vendor saw == attempts not skipped, per route too.
    assert tried(attempts) == len(fake.requests)
    for route in routes:
        sent = sum(1 for r in fake.requests if r.model == route.model)
        assert sent == tried(a for a in attempts if a.route == route.name)
        assert tried(a for a in attempts if a.route == route.name) <= plan.retry.attempts

    # The outcome says what happened.
    answered = [a for a in attempts if a.ok]
    if reply is not None and reply.outcome in ("ok", "rerouted"):
        assert [attempts[-1]] == answered
        assert reply.route == attempts[-1].route
        assert ("ok" if reply.route == "r0" else "rerouted") == reply.outcome
    elif reply is not None:
        assert ("fallback", None, []) == (reply.outcome, reply.route, answered)
        assert plan.fallback
        assert "legacy" == reply.value
    else:
        assert error is not None
        assert not plan.fallback
        assert [] == answered
        last = [a for a in attempts if a.skipped is None][-1:]
        rejected = bool(last) and "Invalid request." in (last[0].message or "")
        assert rejected == isinstance(error, RequestRejectedError)
    assert (reply.outcome if reply is not None else "error") == event.outcome

    # No call outlives its deadline.
    elapsed = harness.clock() - start
    if plan.retry.deadline is not None:
        assert elapsed <= plan.retry.deadline + SLACK
    else:
        expected = _reference(plan)
        got = [(int(a.route[1:]), a.error, a.skipped) for a in attempts]
        assert expected == got
    assert all(w <= plan.retry.maximum for w in harness.clock.sleeps)


class TestFaultSchedules:
    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
    )
    @given(plans())
    def test_invariants_hold_for_any_schedule(self, plan: Plan) -> None:
        """Any mix of faults: one event, requests == attempts, honest outcome, deadline kept."""
        _run(plan)
