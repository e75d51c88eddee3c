"""Submitting a batch (governance per item first) and resuming one by id.

Per item, before anything is sent, the same steps as ``client.complete``: tags
(ambient + explicit), required tags, the flag, a healthy fail-closed sink, budgets,
the PII policy, then rendering for the batch's route. Policies that depend only on
the batch's tags (required tags, flag, budget, sink) hold for every item alike: if
one refuses, nothing is submitted, every item gets its audit event (``disabled`` or
``blocked``) and the error is raised. PII is decided item by item: a blocked item
(``Block()``, or ``RouteTo`` not allowing the batch's route) is left out with outcome
``blocked`` and the rest are submitted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._call import Call
from .._prompt import Prompt
from .._reply import ZERO_USAGE, Reply
from .._tags import Tags
from ..errors import (
    AIDisabledError,
    BudgetExceededError,
    ConfigurationError,
    MissingTagsError,
    PIIBlockedError,
)
from . import _ops, _state, _wire
from ._items import Item, custom_id
from ._job import BatchJob

if TYPE_CHECKING:
    from .._client import Client
    from .._route import Route

__all__ = ["aresume", "asubmit", "resume", "submit"]

_log = logging.getLogger("thinllm")


class _PIIRouteRefused(PIIBlockedError):
    """An item with PII whose ``RouteTo`` policy does not allow the batch's route."""

    error_type = "pii_route"

    def __init__(self, counts: dict[str, int], allowed: Sequence[str], route: str) -> None:
        Exception.__init__(
            self,
            f"the prompt contains personal data and the PII policy allows only routes "
            f"{list(allowed)}, not the batch's route {route!r}: submit such prompts in a "
            "batch on an allowed route",
        )
        self.counts = dict(counts)


class _Plan:
    """What governance decided: the route, each item's call, and which were blocked."""

    def __init__(self, route: Route, items: list[Item], options: dict[str, Any], extra: Any):
        self.route = route
        self.items = items
        self.options = options
        self.extra = extra
        self.started = items[0].call.started

    def requests(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (i.custom_id, _wire.batch_params(i.call.rendered[self.route.name]))
            for i in self.items
            if i.reply is None
        ]


def _govern(
    client: Client,
    prompts: Sequence[Prompt],
    tags: Tags | Mapping[str, str] | None,
    route: str | Route | None,
    options: Mapping[str, Any],
) -> _Plan:
    prompts = list(prompts)
    if not prompts:
        raise ConfigurationError("client.batch() needs at least one prompt")
    opts = dict(options)
    for name in ("output", "fallback", "deadline", "retry", "flag", "pii", "stream"):
        if name in opts:
            raise ConfigurationError(
                f"{name}= is not supported by client.batch(); "
                + (
                    "validate reply.text yourself"
                    if name == "output"
                    else "batch items follow the client's own policies"
                )
            )
    extra = opts.pop("extra", None)
    target = client._route(route) if route is not None else client.routes[0]
    # Validate and render everything first: a bad option fails before any event or request.
    calls = [client._prepare(p, tags, opts, None, target, None, None, extra) for p in prompts]
    items = []
    for index, (prompt, call) in enumerate(zip(prompts, calls, strict=True)):
        call.batch = True
        items.append(Item(index, custom_id(index), call, prompt))
    for item in items:
        try:
            client._guard(item.call, None, None)
        except PIIBlockedError as exc:
            _block(client, item, exc)
            continue
        except BaseException as exc:
            _refuse_all(client, items, exc, item.call.flag)
            raise
        call = item.call
        if call.pii_routes is not None and target.name not in call.pii_routes:
            call.attempt(target, status=None, error=None, latency=0.0, skipped="pii route policy")
            counts = dict(call.pii.counts) if call.pii is not None else {}
            _block(client, item, _PIIRouteRefused(counts, call.pii_routes, target.name))
    if all(i.reply is not None for i in items):
        raise PIIBlockedError(_total_counts(items))
    return _Plan(target, items, opts, extra)


def _block(client: Client, item: Item, exc: PIIBlockedError) -> None:
    client._record_failure(item.call, exc, outcome="blocked")
    item.reply = _refused_reply(item.call, "blocked")


def _refuse_all(client: Client, items: list[Item], exc: BaseException, flag: str | None) -> None:
    """A batch-wide refusal: one event per item not already recorded."""
    outcome = "error"
    if isinstance(exc, AIDisabledError):
        outcome = "disabled"
    elif isinstance(exc, MissingTagsError | BudgetExceededError):
        outcome = "blocked"
    for item in items:
        if item.reply is None:
            item.call.flag = item.call.flag or flag  # the flag was read once for all
            client._record_failure(item.call, exc, outcome=outcome)


def _refused_reply(call: Call, outcome: str) -> Reply:
    return Reply(
        text="",
        usage=ZERO_USAGE,
        cost=None,
        route=None,
        outcome=outcome,  # type: ignore[arg-type]
        attempts=list(call.attempts),
        call_id=call.call_id,
    )


def _total_counts(items: list[Item]) -> dict[str, int]:
    total: dict[str, int] = {}
    for item in items:
        if item.call.pii is not None:
            for kind, n in item.call.pii.counts.items():
                total[kind] = total.get(kind, 0) + n
    return total


def _job(client: Client, plan: _Plan, raw: Any) -> BatchJob:
    status = _wire.status_of(plan.route.api, raw)
    recorded = {i.custom_id for i in plan.items if i.reply is not None}
    job = BatchJob(
        client,
        plan.route,
        raw.id,
        plan.items,
        status=status,
        options=plan.options,
        extra=plan.extra,
        recorded=recorded,
        known=True,
        submitted_at=plan.started,
    )
    job._save()
    return job


def _submission_failed(client: Client, plan: _Plan, exc: BaseException) -> None:
    for item in plan.items:
        if item.reply is None:
            client._record_failure(item.call, exc, outcome="error")


def submit(
    client: Client,
    prompts: Sequence[Prompt],
    *,
    tags: Tags | Mapping[str, str] | None,
    route: str | Route | None,
    options: Mapping[str, Any],
) -> BatchJob:
    """Govern every item, then submit the allowed ones as one vendor batch."""
    target = client._route(route) if route is not None else client.routes[0]
    if target.is_async:
        # Checked first, so nothing is recorded for a batch that cannot be sent this way.
        raise ConfigurationError(
            f"route {target.name!r} holds an async client: use await client.abatch(...) "
            "or a route with a sync client"
        )
    plan = _govern(client, prompts, tags, target, options)
    try:
        raw = _ops.run(client, plan.route, _wire.create(plan.route.api, plan.requests()))
    except BaseException as exc:
        _submission_failed(client, plan, exc)
        raise
    return _job(client, plan, raw)


async def asubmit(
    client: Client,
    prompts: Sequence[Prompt],
    *,
    tags: Tags | Mapping[str, str] | None,
    route: str | Route | None,
    options: Mapping[str, Any],
) -> BatchJob:
    """Async :func:`submit` (a sync route's requests run in a worker thread)."""
    plan = _govern(client, prompts, tags, route, options)
    try:
        steps = _wire.create(plan.route.api, plan.requests())
        raw = await _ops.arun(client, plan.route, steps)
    except BaseException as exc:
        _submission_failed(client, plan, exc)
        raise
    return _job(client, plan, raw)


def resume(client: Client, job_id: str, *, route: str | Route | None) -> BatchJob:
    """A :class:`BatchJob` for a batch submitted earlier, by this or another process.

    Tags, call ids and options come from the local batch record. The status is
    fetched now for a sync route; for an async one, use :func:`aresume` (or
    ``await job.arefresh()``).
    """
    job = _resumed(client, job_id, route)
    if not job._route.is_async:
        job.refresh()
    return job


async def aresume(client: Client, job_id: str, *, route: str | Route | None) -> BatchJob:
    """Async :func:`resume` (fetches the status with the route's client, sync or async)."""
    job = _resumed(client, job_id, route)
    await job.arefresh()
    return job


def _resumed(client: Client, job_id: str, route: str | Route | None) -> BatchJob:
    if not isinstance(job_id, str) or not job_id:
        raise ConfigurationError(f"batch_job() takes the job's id string, got {job_id!r}")
    record = _state.load(job_id)
    target = _resume_route(client, job_id, route, record)
    if record is not None and record.get("api") != target.api:
        raise ConfigurationError(
            f"batch {job_id} was submitted through the {record.get('api')} API; route "
            f"{target.name!r} speaks {target.api}"
        )
    unknown = _wire.Status("in_progress", _wire.Counts(), None, None)
    if record is None:
        return BatchJob(
            client,
            target,
            job_id,
            [],
            status=unknown,
            options={},
            extra=None,
            recorded=set(),
            known=False,
            submitted_at=client._clock(),
        )
    items = [_item_from_record(client, target, record, entry) for entry in record["items"]]
    if any(e.get("pii_action") == "pseudonymize" and e.get("pii") for e in record["items"]):
        _log.warning(
            "thinllm: batch %s was submitted with Pseudonymize() in another process; the "
            "pseudonym map is never written to disk, so its replies keep the placeholders",
            job_id,
        )
    return BatchJob(
        client,
        target,
        job_id,
        items,
        status=unknown,
        options=record.get("options") or {},
        extra=record.get("extra") or None,
        recorded=set(record.get("recorded") or ()),
        known=True,
        submitted_at=float(record.get("submitted_at") or client._clock()),
    )


def _resume_route(
    client: Client, job_id: str, route: str | Route | None, record: dict[str, Any] | None
) -> Route:
    if route is not None:
        return client._route(route)
    if record is not None and record.get("route") in client._by_name:
        return client._by_name[record["route"]]
    vendor = _wire.vendor_of_id(job_id)
    api = record.get("api") if record is not None else None
    for candidate in client.routes:
        if api is not None and candidate.api == api:
            return candidate
        if api is None and vendor == ("anthropic" if candidate.api == "messages" else "openai"):
            return candidate
    raise ConfigurationError(
        f"no route of this client can read batch {job_id!r}: pass route= naming the route "
        "(Anthropic or OpenAI client) it was submitted to"
    )


def _item_from_record(
    client: Client, route: Route, record: dict[str, Any], entry: dict[str, Any]
) -> Item:
    tags = Tags(**entry.get("tags") or {})
    call = Call(
        prompt=None,
        tags=tags,
        options=dict(record.get("options") or {}),
        routes=[route],
        retry=None,
        started=float(record.get("submitted_at") or client._clock()),
        call_id=str(entry["call_id"]),
        batch=True,
        prompt_hash=entry.get("prompt_hash"),
        pii_action=entry.get("pii_action"),
        flag=entry.get("flag"),
    )
    if call.pii_action is not None and client.pii is not None:
        # A fresh session scrubs what is recorded; the original counts are kept.
        session = client.pii.session(tags)
        session.counts.update(entry.get("pii") or {})
        call.pii = session
    item = Item(int(entry["index"]), str(entry["custom_id"]), call)
    if entry.get("blocked"):
        item.reply = _refused_reply(call, "blocked")
    return item
