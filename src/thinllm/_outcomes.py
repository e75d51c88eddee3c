"""How a call ends: the reply, the fallback, the audit event and the price.

:class:`OutcomeSteps` is the part of :class:`~thinllm.Client` that turns a vendor answer
(or a failure) into one :class:`~thinllm.Reply` and exactly one audit event, whatever
happened: ``ok``/``rerouted``, ``fallback``, ``disabled``, ``blocked`` or ``error``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ._frozen import new
from ._prompt import ToolCall, map_json_strings
from ._reply import ZERO_USAGE, Reply
from .errors import (
    AIDisabledError,
    BudgetExceededError,
    MissingTagsError,
    OutputValidationError,
    PIIBlockedError,
    RoutesExhaustedError,
)

if TYPE_CHECKING:
    from types import ModuleType

    from ._call import Call
    from ._route import Route
    from .providers import Parsed
    from .sinks.delivery import Delivery

__all__ = ["OutcomeSteps"]


class OutcomeSteps:
    """Reply, fallback, audit event and price for a call that ended."""

    capture: str
    delivery: Delivery
    _clock: Callable[[], float]
    _budgets: Any
    _pricing: ModuleType

    def _conclude_ok(self, call: Call, route: Route, raw: Any, parsed: Parsed) -> Reply:
        if call.pii is not None and call.pii_action == "pseudonymize":
            _restore(parsed, call.pii.restore)
        value: Any = parsed.text
        parsed_value: Any = None
        validation_error: OutputValidationError | None = None
        if call.output is not None:
            try:
                parsed_value = call.output.validate(parsed.text)
                value = parsed_value
            except Exception as exc:
                validation_error = OutputValidationError(
                    f"the {route.name!r} reply did not validate as {call.output.name}: "
                    f"{_first_line(exc)}. The raw text is on the error's .text",
                    text=parsed.text,
                )
                validation_error.__cause__ = exc
        outcome = "ok" if route is call.routes[0] else "rerouted"
        cost = self._price(parsed, route, batch=call.batch)
        ended = self._clock()
        event = call.event(
            ended=ended,
            outcome=outcome,
            route=route,
            parsed=parsed,
            cost=cost,
            error=validation_error,
            capture=self.capture,
        )
        self._emit(call, event, cost)
        if validation_error is not None:
            raise validation_error
        # Slot stores on an empty Reply rather than Reply(text=..., ...): the dataclass's
        # __init__ called with thirteen keywords cost about four times as much, on every
        # call. Every field is set (a test holds this to Reply's own constructor).
        reply: Reply = new(Reply)
        reply.text = parsed.text
        reply.usage = parsed.usage
        reply.cost = cost
        reply.route = route.name
        reply.outcome = outcome  # type: ignore[assignment]
        reply.attempts = list(call.attempts)
        reply.call_id = call.call_id
        reply.raw = raw
        reply.value = value
        reply.parsed = parsed_value
        reply.tool_calls = parsed.tool_calls
        reply.model = parsed.model or route.model
        reply.finish_reason = parsed.finish_reason
        return reply

    def _failure_outcome(
        self, call: Call, exc: BaseException, fallback: Callable[[], Any] | None
    ) -> str:
        """The outcome of a call that got no answer. Records and re-raises ``exc`` unless a
        fallback will run."""
        outcome = "error"
        can_fall_back = False
        if isinstance(exc, AIDisabledError):
            outcome, can_fall_back = "disabled", True
        elif isinstance(exc, MissingTagsError):
            outcome = "blocked"  # a bug in the calling code: never papered over by a fallback
        elif isinstance(exc, PIIBlockedError | BudgetExceededError):
            outcome, can_fall_back = "blocked", True
        elif isinstance(exc, RoutesExhaustedError):
            outcome, can_fall_back = "fallback", True
        if fallback is None or not can_fall_back:
            if outcome == "fallback":
                outcome = "error"
            self._record_failure(call, exc, outcome=outcome)
            raise exc
        return outcome

    def _fallback_reply(self, call: Call, exc: BaseException, outcome: str, value: Any) -> Reply:
        """The reply carrying what the caller's fallback returned."""
        text = value if isinstance(value, str) else ""
        event = call.event(
            ended=self._clock(),
            outcome=outcome,
            route=None,
            parsed=None,
            cost=None,
            error=exc,
            capture=self.capture,
            value_text=value if isinstance(value, str) else None,
        )
        self._emit(call, event, None)
        return Reply(
            text=text,
            usage=ZERO_USAGE,
            cost=None,
            route=None,
            outcome=outcome,  # type: ignore[arg-type]
            attempts=list(call.attempts),
            call_id=call.call_id,
            raw=None,
            value=value,
        )

    def _record_failure(self, call: Call, exc: BaseException, *, outcome: str) -> None:
        event = call.event(
            ended=self._clock(),
            outcome=outcome,
            route=None,
            parsed=None,
            cost=None,
            error=exc,
            capture=self.capture,
        )
        self._emit(call, event, None)

    def _emit(self, call: Call, event: Any, cost: Decimal | None) -> None:
        if self._budgets is not None and cost is not None:
            self._budgets.record(call.tags, cost, call.started)
        if not call.deferred:
            self.delivery.deliver(event)
            return
        if call.held is not None:  # never drop an event (one per call is the rule)
            self.delivery.deliver(call.held)
        call.held = event  # the async caller awaits it right after this step

    async def _arelease(self, call: Call) -> None:
        """Deliver the event an async step held back (see ``Call.deferred``)."""
        event, call.held = call.held, None
        if event is not None:
            await self.delivery.adeliver(event)

    def _price(self, parsed: Parsed, route: Route, *, batch: bool) -> Decimal | None:
        pricing = self._pricing
        price = None
        for model in (route.model, parsed.model):
            if model:
                price = pricing.get(model)
                if price is not None:
                    break
        if price is None:
            pricing.warn_unpriced(route.model)
            return None
        cost: Decimal = pricing.cost(parsed.usage, price, batch=batch)
        return cost


def _restore(parsed: Parsed, restore: Callable[[str], str]) -> None:
    parsed.text = restore(parsed.text)
    parsed.tool_calls = [
        ToolCall(c.id, c.name, map_json_strings(dict(c.arguments), restore))
        for c in parsed.tool_calls
    ]


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
