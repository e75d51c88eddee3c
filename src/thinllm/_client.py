"""The governed client: public API and the steps before a request is sent.

One call flows through three modules, in this order:

    here            resolve tags -> require tags -> flag -> budget -> PII
                    -> render every route (nothing is sent if any of this fails)
    _routing.py     routes loop: circuit -> retry -> vendor call -> parse
    _outcomes.py    restore PII -> price -> one CallEvent to every sink -> Reply

Steps before the vendor call are synchronous and shared by every entry point
(``complete``, ``acomplete``, ``stream``, ``astream``, ``wrap``, ``batch``); only the
routes loop exists in a sync and an async form.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from . import _tags
from ._call import CAPTURE_MODES, Call, new_call
from ._outcomes import OutcomeSteps
from ._prompt import Prompt
from ._reply import Reply
from ._retry import Breaker, Circuit, Retry
from ._route import Route
from ._routing import RoutingSteps
from .errors import (
    AIDisabledError,
    ConfigurationError,
    MissingTagsError,
    PIIBlockedError,
)
from .flags._base import coerce as coerce_flag
from .flags._base import evaluate as evaluate_flag
from .flags._base import flag_name
from .providers import OutputSpec

if TYPE_CHECKING:
    from ._batch import BatchJob
    from ._stream import AsyncStream, Stream
    from ._tags import Tags
    from .pii._base import PIIPolicy, PIISession

__all__ = ["Client"]

DEFAULT_RETRY = Retry()
DEFAULT_CIRCUIT = Circuit()
_SEND_USER = ("hash", "plain", "none")


class Client(RoutingSteps, OutcomeSteps):
    """Governed calls over the vendor clients you already have.

    ``routes`` are tried in order (the first is the primary). Every call is tagged,
    checked against the kill switch, budgets and PII policy, retried and rerouted
    under ``retry``/``circuit``, priced, and recorded as one audit event in every sink.

    ``capture`` sets what audit events hold of prompts and replies: ``"redacted"``
    (default: text after PII handling, with PII and secrets replaced by placeholders),
    ``"full"`` (text as sent; secrets still removed), ``"hash"`` or ``"none"``.
    ``send_user`` sets how the ``user`` tag reaches the vendor's end-user field
    (Anthropic ``metadata.user_id``, OpenAI ``safety_identifier``): ``"hash"``
    (default, a SHA-256 prefix), ``"plain"`` or ``"none"``.
    ``clock``, ``sleep`` and ``asleep`` are injectable so tests never sleep.
    """

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        require_tags: Iterable[str] = (),
        sinks: Iterable[Any] = (),
        flag: Any = None,
        pii: PIIPolicy | None = None,
        retry: Retry | None = None,
        circuit: Circuit | None = None,
        budgets: Iterable[Any] = (),
        capture: str = "redacted",
        fail_closed: bool = False,
        spool_dir: str | None = None,
        send_user: str = "hash",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        asleep: Callable[[float], Awaitable[None]] | None = None,
        seed: int | None = None,
    ) -> None:
        routes = list(routes) if not isinstance(routes, Route) else [routes]
        if not routes:
            raise ConfigurationError("Client(routes=[...]) needs at least one Route")
        for r in routes:
            if not isinstance(r, Route):
                raise ConfigurationError(
                    f"routes must be thinllm.Route objects, got {type(r).__name__}: wrap a vendor "
                    "client as Route(anthropic.Anthropic(), model='claude-sonnet-5-5')"
                )
        names = [r.name for r in routes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigurationError(
                f"route names must be unique; {dupes} appear twice: give routes name=..."
            )
        if capture not in CAPTURE_MODES:
            raise ConfigurationError(f"capture= must be one of {CAPTURE_MODES}, got {capture!r}")
        if send_user not in _SEND_USER:
            raise ConfigurationError(f"send_user= must be one of {_SEND_USER}, got {send_user!r}")
        if retry is not None and not isinstance(retry, Retry):
            raise ConfigurationError("retry= takes thinllm.Retry(...)")
        if circuit is not None and not isinstance(circuit, Circuit):
            raise ConfigurationError("circuit= takes thinllm.Circuit(...)")
        pii_routes = tuple(getattr(pii, "routes", None) or ())
        unknown = [name for name in pii_routes if name not in names]
        if unknown:
            raise ConfigurationError(
                f"the PII policy names routes {unknown} that this client does not have; "
                f"its routes are {names} (name them with Route(..., name=...))"
            )
        self.routes: tuple[Route, ...] = tuple(routes)
        self._by_name = {r.name: r for r in routes}
        self.require_tags = tuple(require_tags)
        self._all_required = _core_getter(self.require_tags)
        self.flag = coerce_flag(flag)
        self.pii = pii
        self.retry = retry or DEFAULT_RETRY
        self.circuit = circuit or DEFAULT_CIRCUIT
        self.capture = capture
        self.send_user = send_user
        self._clock = clock
        self._sleep = sleep
        self._asleep = asleep or _asyncio_sleep
        self._rng = random.Random(seed)
        self._breakers = {r.name: Breaker(r.circuit or self.circuit) for r in routes}
        from .sinks.delivery import Delivery

        sink_list = list(sinks)
        for sink in sink_list:
            if not callable(sink):
                raise ConfigurationError(
                    f"sinks= takes callables receiving a CallEvent (e.g. thinllm.sinks.SQLiteSink"
                    f"(...)); got {type(sink).__name__}"
                )
        self.delivery = Delivery(sink_list, fail_closed=fail_closed, spool_dir=spool_dir)
        self._budgets = _budget_guard(list(budgets), clock, sink_list)
        self._prefix_watch = _prefix_watch()
        # Loaded here, not at import: the price table module pulls in importlib.resources.
        self._pricing = importlib.import_module("thinllm.pricing")
        self._flag_name = flag_name(self.flag) if self.flag is not None else None

    # ----------------------------------------------------------------- public API

    def complete(
        self,
        prompt: Prompt,
        *,
        tags: Tags | Mapping[str, str] | None = None,
        fallback: Callable[[], Any] | None = None,
        output: Any = None,
        route: str | Route | None = None,
        retry: Retry | None = None,
        flag: Any = None,
        pii: PIIPolicy | None = None,
        deadline: float | None = None,
        extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Reply:
        """Send ``prompt`` through the routes and return one normalized :class:`Reply`."""
        call = self._prepare(prompt, tags, options, output, route, retry, deadline, extra)
        try:
            self._guard(call, flag, pii)
            routed, raw, parsed = self._send(call)
        except BaseException as exc:
            outcome = self._failure_outcome(call, exc, fallback)
            assert fallback is not None  # _failure_outcome raised otherwise
            try:
                value = fallback()
            except BaseException as fb_exc:
                self._record_failure(call, fb_exc, outcome=outcome)
                raise
            return self._fallback_reply(call, exc, outcome, value)
        return self._conclude_ok(call, routed, raw, parsed)

    async def acomplete(
        self,
        prompt: Prompt,
        *,
        tags: Tags | Mapping[str, str] | None = None,
        fallback: Callable[[], Any] | None = None,
        output: Any = None,
        route: str | Route | None = None,
        retry: Retry | None = None,
        flag: Any = None,
        pii: PIIPolicy | None = None,
        deadline: float | None = None,
        extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Reply:
        """Async :meth:`complete`: the routes must hold async vendor clients."""
        call = self._prepare(prompt, tags, options, output, route, retry, deadline, extra)
        call.deferred = True
        try:
            try:
                self._guard(call, flag, pii)
                routed, raw, parsed = await self._asend(call)
            except BaseException as exc:
                outcome = self._failure_outcome(call, exc, fallback)
                assert fallback is not None  # _failure_outcome raised otherwise
                try:
                    value = fallback()
                    if inspect.isawaitable(value):
                        value = await value
                except BaseException as fb_exc:
                    self._record_failure(call, fb_exc, outcome=outcome)
                    raise
                return self._fallback_reply(call, exc, outcome, value)
            return self._conclude_ok(call, routed, raw, parsed)
        finally:
            await self._arelease(call)

    def stream(
        self,
        prompt: Prompt,
        *,
        tags: Tags | Mapping[str, str] | None = None,
        fallback: Callable[[], Any] | None = None,
        route: str | Route | None = None,
        retry: Retry | None = None,
        flag: Any = None,
        pii: PIIPolicy | None = None,
        deadline: float | None = None,
        extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Stream:
        """A context manager streaming text deltas; ``.reply`` holds the :class:`Reply` after.

        A failure before the first delta is retried and rerouted like any call; after
        text has reached the caller the stream is not restarted: the error surfaces as
        :class:`~thinllm.errors.StreamInterruptedError` and is recorded.
        """
        from ._stream import Stream

        call = self._prepare(prompt, tags, options, None, route, retry, deadline, extra)
        call.stream = True
        return Stream(self, call, flag, pii, fallback)

    def astream(
        self,
        prompt: Prompt,
        *,
        tags: Tags | Mapping[str, str] | None = None,
        fallback: Callable[[], Any] | None = None,
        route: str | Route | None = None,
        retry: Retry | None = None,
        flag: Any = None,
        pii: PIIPolicy | None = None,
        deadline: float | None = None,
        extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> AsyncStream:
        """Async :meth:`stream` (``async with client.astream(...) as s: async for d in s``)."""
        from ._stream import AsyncStream

        call = self._prepare(prompt, tags, options, None, route, retry, deadline, extra)
        call.stream = True
        return AsyncStream(self, call, flag, pii, fallback)

    def render(
        self,
        prompt: Prompt,
        *,
        route: str | Route | None = None,
        output: Any = None,
        tags: Tags | Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """The exact keyword arguments the route's SDK method would receive (nothing is sent).

        PII handling is not applied here: this shows the request as written.
        """
        if not isinstance(prompt, Prompt):
            raise ConfigurationError(
                f"render() takes a thinllm.Prompt, got {type(prompt).__name__}"
            )
        target = self._route(route) if route is not None else self.routes[0]
        spec = OutputSpec.of(output) if output is not None else None
        resolved = _tags.resolve(tags)
        return self._render(target, prompt, options, extra, spec, resolved)

    def batch(
        self,
        prompts: Sequence[Prompt],
        *,
        tags: Tags | Mapping[str, str] | None = None,
        route: str | Route | None = None,
        **options: Any,
    ) -> BatchJob:
        """Submit ``prompts`` to the route's vendor batch API, priced at the batch rate.

        Returns a :class:`~thinllm.BatchJob`; ``job.wait()`` gives the replies in prompt
        order. Governance applies per item (tags, flag, PII, one audit event each).
        """
        from ._batch import submit

        return submit(self, prompts, tags=tags, route=route, options=options)

    def batch_job(self, job_id: str, *, route: str | Route | None = None) -> BatchJob:
        """Resume a batch submitted earlier (by this or another process) by its id."""
        from ._batch import resume

        return resume(self, job_id, route=route)

    async def abatch(
        self,
        prompts: Sequence[Prompt],
        *,
        tags: Tags | Mapping[str, str] | None = None,
        route: str | Route | None = None,
        **options: Any,
    ) -> BatchJob:
        """Async :meth:`batch` (the route may hold an async vendor client)."""
        from ._batch import asubmit

        return await asubmit(self, prompts, tags=tags, route=route, options=options)

    async def abatch_job(self, job_id: str, *, route: str | Route | None = None) -> BatchJob:
        """Async :meth:`batch_job`."""
        from ._batch import aresume

        return await aresume(self, job_id, route=route)

    def wrap(self, vendor_client: Any, *, name: str | None = None) -> Any:
        """A drop-in stand-in for ``vendor_client`` whose calls are governed by this client.

        ``wrapped.messages.create(...)``, ``wrapped.chat.completions.create(...)`` and
        ``wrapped.responses.create(...)`` take the vendor's own arguments plus
        ``tags=``, and return the vendor's own types. Everything else passes through.
        """
        from ._wrap import wrap

        return wrap(self, vendor_client, name=name)

    def health(self) -> dict[str, dict[str, Any]]:
        """Per route: circuit state and consecutive failures (for dashboards and tests)."""
        now = self._clock()
        return {
            name: {"circuit": b.state(now), "consecutive_failures": b.consecutive}
            for name, b in self._breakers.items()
        }

    def close(self) -> None:
        """Flush and close the sinks (vendor clients stay open: they are yours)."""
        self.delivery.close()

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        import asyncio

        await asyncio.to_thread(self.delivery.close)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return "Client(routes=[" + ", ".join(repr(r.name) for r in self.routes) + "])"

    # ----------------------------------------------------------------- steps before sending

    def _route(self, route: str | Route) -> Route:
        if isinstance(route, Route):
            return route
        if route not in self._by_name:
            raise ConfigurationError(
                f"no route named {route!r}; this client's routes are {list(self._by_name)}"
            )
        return self._by_name[route]

    def _prepare(
        self,
        prompt: Prompt,
        tags: Tags | Mapping[str, str] | None,
        options: dict[str, Any],
        output: Any,
        route: str | Route | None,
        retry: Retry | None,
        deadline: float | None,
        extra: Mapping[str, Any] | None,
    ) -> Call:
        """Validate arguments (nothing sent, no event on error) and open the call."""
        if not isinstance(prompt, Prompt):
            raise ConfigurationError(
                f"complete() takes a thinllm.Prompt, got {type(prompt).__name__}: "
                "build one with Prompt(system=..., messages=[thinllm.user(...)])"
            )
        if retry is not None and not isinstance(retry, Retry):
            raise ConfigurationError("retry= takes thinllm.Retry(...)")
        if extra is not None and not isinstance(extra, Mapping):
            raise ConfigurationError("extra= takes a dict of vendor-specific fields")
        routes = [self._route(route)] if route is not None else list(self.routes)
        policy = retry or self.retry
        started = self._clock()
        budget = deadline if deadline is not None else policy.deadline
        if budget is not None and budget <= 0:
            raise ConfigurationError("deadline= must be > 0 seconds")
        if extra:
            options = {**options, "extra": dict(extra)}
        call = new_call(
            prompt,
            _tags.resolve(tags),
            options,
            routes,
            retry,
            started,
            OutputSpec.of(output) if output is not None else None,
            started + budget if budget is not None else None,
        )
        # Render every route now so an option a fallback route cannot take fails before
        # anything is sent (never a silent drop halfway through a call).
        for r in routes:
            call.rendered[r.name] = self._render(r, prompt, options, extra, call.output, call.tags)
        return call

    def _render(
        self,
        route: Route,
        prompt: Prompt,
        options: Mapping[str, Any],
        extra: Mapping[str, Any] | None,
        output: OutputSpec | None,
        tags: Tags,
    ) -> dict[str, Any]:
        opts: Mapping[str, Any]
        if route.defaults or "extra" in options:
            opts = {**route.defaults, **{k: v for k, v in options.items() if k != "extra"}}
            route_extra = opts.pop("extra", None) or {}
        else:  # the common case: no merge needed (adapters never modify the options)
            opts, route_extra = options, {}
        kwargs = route.adapter.render(prompt, route.model, opts, output, self._user_id(tags))
        merged_extra = {**route_extra, **extra} if extra else route_extra
        if merged_extra:
            body = dict(kwargs.get("extra_body") or {})
            for key, value in merged_extra.items():
                if key in kwargs and key not in ("extra_body", "extra_headers", "extra_query"):
                    raise ConfigurationError(
                        f"extra={{{key!r}: ...}} would overwrite a field thinllm renders; "
                        "set it through the Prompt or a call option instead"
                    )
                if key in ("extra_headers", "extra_query", "extra_body"):
                    kwargs[key] = value
                else:
                    body[key] = value
            if body:
                kwargs["extra_body"] = body
        return kwargs

    def _user_id(self, tags: Tags) -> str | None:
        user = tags.user
        if user is None or self.send_user == "none":
            return None
        if self.send_user == "plain":
            return user
        return _hashed_user(user)

    def _guard(self, call: Call, flag: Any, pii: PIIPolicy | None) -> None:
        """Policies before sending; each stops the call by raising its own error."""
        if self.require_tags:
            get = self._all_required
            if get is None or not all(get(call.tags)):
                missing = call.tags.missing(self.require_tags)
                if missing:
                    raise MissingTagsError(missing)
        active_flag = coerce_flag(flag) if flag is not None else self.flag
        if active_flag is not None:
            on, problem = evaluate_flag(active_flag, call.tags)
            name = (self._flag_name if flag is None else None) or flag_name(active_flag)
            call.flag = _flag_text(name, on, problem)
            if not on:
                raise AIDisabledError(name)
        if self.delivery.fail_closed and not self.delivery.check():
            from .errors import AuditWriteError

            raise AuditWriteError(
                "a fail-closed audit sink is down, so the call was refused before contacting "
                "the vendor; fix the sink or retry later"
            )
        if self._budgets is not None:
            self._budgets.check(call.tags)
        session = self._open_pii(call, pii) if pii is not None or self.pii is not None else None
        if session is not None and call.prompt is not None:
            call.sent_prompt = call.prompt.map_text(session.outgoing)
            self._pii_decide(call)
            if call.sent_prompt != call.prompt:
                for r in call.routes:
                    call.rendered[r.name] = self._render(
                        r,
                        call.sent_prompt,
                        call.options,
                        call.options.get("extra"),
                        call.output,
                        call.tags,
                    )
        if call.tags.workflow:
            prompt_hash = call.prompt_hash or (call.prompt.static_hash() if call.prompt else None)
            if prompt_hash is not None:
                self._prefix_watch(call.tags.workflow, prompt_hash)

    def _open_pii(self, call: Call, pii: PIIPolicy | None) -> PIISession | None:
        """Open the call's PII session (``None`` when no policy applies)."""
        policy = pii if pii is not None else self.pii
        if policy is None:
            return None
        session = policy.session(call.tags)
        call.pii = session
        call.pii_action = getattr(session, "action", None) or policy.action
        call.pii_policy_routes = tuple(getattr(session, "routes", None) or policy.routes or ())
        return session

    def _pii_decide(self, call: Call) -> None:
        """After the outgoing texts were scanned: block, or restrict the routes."""
        session = call.pii
        if session is None or not session.counts:
            return
        if call.pii_action == "block":
            raise PIIBlockedError(session.counts)
        if call.pii_action == "route":
            call.pii_routes = call.pii_policy_routes


def _core_getter(names: tuple[str, ...]) -> Callable[[Tags], tuple[Any, ...]] | None:
    """One C-level getter of the required tags, when they are all core tags (2 or more).

    ``all(get(tags))`` is then the required-tags check in about a third of the
    instructions of :meth:`Tags.missing`, which runs only when a tag is missing.
    """
    if len(names) < 2 or not _tags.CORE.issuperset(names):
        return None  # attrgetter of one name returns the value, not a tuple
    return attrgetter(*names)


@lru_cache(maxsize=4096)
def _hashed_user(user: str) -> str:
    """A stable pseudonymous end-user id for the vendor (SHA-256 prefix)."""
    return hashlib.sha256(user.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@lru_cache(maxsize=256)
def _flag_text(name: str, on: bool, problem: str | None) -> str:
    """The event's ``flag`` field: ``BENCH_AI=on``, ``BENCH_AI=off (reason)``.

    Cached: a client sees a handful of (flag, verdict) pairs, and formatting the text
    cost more than reading the flag.
    """
    return f"{name}={'on' if on else 'off'}" + (f" ({problem})" if problem else "")


async def _asyncio_sleep(seconds: float) -> None:
    import asyncio  # lazily: asyncio costs more to import than the rest of thinllm

    await asyncio.sleep(seconds)


def _budget_guard(budgets: list[Any], clock: Callable[[], float], sinks: list[Any]) -> Any:
    """Budgets read their fleet-wide totals from the first sink that can report spend."""
    if not budgets:
        return None
    from ._budget import BudgetGuard

    return BudgetGuard.from_sinks(budgets, sinks, clock=clock)


def _prefix_watch() -> Any:
    from ._cachelint import PrefixWatch

    return PrefixWatch()
