"""``BatchJob``: one submitted batch, its status, and its items' replies and audit events.

Items are matched to prompts by ``custom_id`` (``item-<index>``), never by the order
the vendor returns them in. Each item's audit event is written when its result is
first collected, exactly once, even across processes (the batch record remembers
which items were recorded).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._call import Call
from .._reply import ZERO_USAGE, Attempt, Reply
from .._tags import Tags
from ..errors import ConfigurationError
from . import _ops, _state, _wire
from ._items import BatchNotEndedError, FailedItem, Item, ItemError, index_of
from ._progress import Progress

if TYPE_CHECKING:
    from datetime import datetime

    from .._client import Client
    from .._prompt import Prompt
    from .._route import Route
    from ._wire import Counts, ItemResult, Status

__all__ = ["BatchJob"]

_log = logging.getLogger("thinllm")
_TERMINAL = frozenset({"ended", "canceled", "expired", "failed"})


class BatchJob:
    """A batch submitted to the Anthropic Message Batches or OpenAI Batch API.

    ``status`` is ``"in_progress"``, ``"ended"``, ``"canceled"``, ``"expired"`` or
    ``"failed"``; ``counts`` says how many items are processing, succeeded, errored,
    expired, canceled or were blocked by a policy before submission. ``wait()`` polls
    with backoff and returns the replies in prompt order; ``results()`` returns them
    for an ended batch. Resume a job later, in any process, with
    ``client.batch_job(job.id)``.
    """

    def __init__(
        self,
        client: Client,
        route: Route,
        job_id: str,
        items: list[Item],
        *,
        status: Status,
        options: Mapping[str, Any],
        extra: Mapping[str, Any] | None,
        recorded: set[str],
        known: bool,
        submitted_at: float,
    ) -> None:
        self.id = job_id
        self._client = client
        self._route = route
        self._items = items
        self._options = dict(options)
        self._extra = dict(extra) if extra else None
        self._recorded = recorded
        #: False for a job resumed without its batch record: items come from the results.
        self._known = known
        self._submitted_at = submitted_at
        self._status = status

    # -- what the vendor says ----------------------------------------------------------

    @property
    def route(self) -> str:
        """The name of the route the batch was submitted to."""
        return self._route.name

    @property
    def status(self) -> str:
        """``"in_progress"``, ``"ended"``, ``"canceled"``, ``"expired"`` or ``"failed"``."""
        return self._status.status

    @property
    def counts(self) -> Counts:
        """Items per state (as of the last refresh); ``counts.total`` is every prompt."""
        blocked = sum(
            1 for i in self._items if i.reply is not None and i.reply.outcome == "blocked"
        )
        c = self._status.counts
        return _wire.Counts(c.processing, c.succeeded, c.errored, c.expired, c.canceled, blocked)

    @property
    def created_at(self) -> datetime | None:
        """When the vendor accepted the batch (UTC)."""
        return self._status.created_at

    @property
    def expires_at(self) -> datetime | None:
        """When the vendor gives up on unprocessed items (24 h after creation)."""
        return self._status.expires_at

    @property
    def done(self) -> bool:
        """Whether the batch reached a final status (results can be collected)."""
        return self._status.status in _TERMINAL

    def __len__(self) -> int:
        return len(self._items) if self._known else self.counts.total

    def __repr__(self) -> str:
        c = self.counts
        return (
            f"<BatchJob {self.id} route={self.route!r} {self.status} "
            f"{c.done}/{c.total} done, {c.errored} errored>"
        )

    def refresh(self) -> BatchJob:
        """Fetch the current status and counts from the vendor."""
        raw = _ops.run(self._client, self._route, _wire.retrieve(self._route.api, self.id))
        self._status = _wire.status_of(self._route.api, raw)
        return self

    async def arefresh(self) -> BatchJob:
        """Async :meth:`refresh`."""
        steps = _wire.retrieve(self._route.api, self.id)
        raw = await _ops.arun(self._client, self._route, steps)
        self._status = _wire.status_of(self._route.api, raw)
        return self

    def cancel(self) -> BatchJob:
        """Ask the vendor to stop; items not yet processed end as ``canceled``."""
        raw = _ops.run(self._client, self._route, _wire.cancel(self._route.api, self.id))
        self._status = _wire.status_of(self._route.api, raw)
        return self

    async def acancel(self) -> BatchJob:
        """Async :meth:`cancel`."""
        raw = await _ops.arun(self._client, self._route, _wire.cancel(self._route.api, self.id))
        self._status = _wire.status_of(self._route.api, raw)
        return self

    # -- waiting -----------------------------------------------------------------------

    def wait(
        self,
        *,
        poll: float = 1.0,
        max_poll: float = 30.0,
        timeout: float | None = None,
        progress: bool | None = None,
    ) -> list[Reply]:
        """Poll until the batch ends, then return the replies in prompt order.

        The interval starts at ``poll`` seconds and doubles up to ``max_poll``.
        ``timeout`` (seconds) raises :class:`BatchNotEndedError`; the job stays valid.
        ``progress``: see :class:`~thinllm._batch._progress.Progress` (default: a bar
        on an interactive terminal, nothing otherwise). Sleeps with the client's
        ``sleep``, so tests inject one and never wait.
        """
        _check_wait(poll, max_poll, timeout)
        clock = self._client._clock
        deadline = clock() + timeout if timeout is not None else None
        bar = Progress(f"batch {self.id}", enabled=progress)
        delay = poll
        try:
            while True:
                if not self.done:
                    self.refresh()
                bar.update(self.status, self.counts)
                if self.done:
                    break
                delay = self._next_sleep(delay, deadline)
                self._client._sleep(delay)
                delay = min(delay * 2.0, max_poll)
        finally:
            bar.close()
        return self.results()

    async def wait_async(
        self,
        *,
        poll: float = 1.0,
        max_poll: float = 30.0,
        timeout: float | None = None,
        progress: bool | None = None,
    ) -> list[Reply]:
        """Async :meth:`wait` (sleeps with the client's ``asleep``)."""
        _check_wait(poll, max_poll, timeout)
        clock = self._client._clock
        deadline = clock() + timeout if timeout is not None else None
        bar = Progress(f"batch {self.id}", enabled=progress)
        delay = poll
        try:
            while True:
                if not self.done:
                    await self.arefresh()
                bar.update(self.status, self.counts)
                if self.done:
                    break
                delay = self._next_sleep(delay, deadline)
                await self._client._asleep(delay)
                delay = min(delay * 2.0, max_poll)
        finally:
            bar.close()
        return await self.aresults()

    def _next_sleep(self, delay: float, deadline: float | None) -> float:
        if deadline is None:
            return delay
        remaining = deadline - self._client._clock()
        if remaining <= 0:
            raise BatchNotEndedError(
                f"batch {self.id} is still {self.status.replace('_', ' ')} "
                f"({self.counts.done}/{self.counts.total} done) after the wait timeout; "
                "call wait() again, or resume later with client.batch_job(job_id)",
                job_id=self.id,
                status=self.status,
            )
        return min(delay, remaining)

    # -- results -----------------------------------------------------------------------

    def results(self) -> list[Reply]:
        """The replies in prompt order (one audit event per item, written once).

        Failed, expired and canceled items are replies with outcome ``"error"``;
        items a policy blocked before submission have outcome ``"blocked"``.
        Raises :class:`BatchNotEndedError` while the batch is still running.
        """
        if self._pending():
            if not self.done:
                self.refresh()
            self._require_done()
            steps = _wire.results(self._route.api, self.id, self._status)
            self._absorb(_ops.run(self._client, self._route, steps))
        return self._replies()

    async def aresults(self) -> list[Reply]:
        """Async :meth:`results`."""
        if self._pending():
            if not self.done:
                await self.arefresh()
            self._require_done()
            steps = _wire.results(self._route.api, self.id, self._status)
            self._absorb(await _ops.arun(self._client, self._route, steps))
        return self._replies()

    def failed(self) -> list[FailedItem]:
        """Items that got no answer (errored, expired, canceled), in prompt order."""
        self.results()
        return self._failed()

    async def afailed(self) -> list[FailedItem]:
        """Async :meth:`failed`."""
        await self.aresults()
        return self._failed()

    def rerun_failed(
        self,
        *,
        prompts: Sequence[Prompt] | None = None,
        route: str | Route | None = None,
        **options: Any,
    ) -> list[Reply]:
        """Run the failed items again, synchronously, through ``client.complete``.

        Each runs with its original tags and options (``options`` override them), on
        the batch's route unless ``route=`` names another, at the normal (not batch)
        rate, as a normal audited call. A job resumed by id does not know its prompts:
        pass the list you submitted as ``prompts=``. Returns the new replies in the
        order of :meth:`failed`; a call that fails raises as ``complete`` does.
        """
        todo = self._rerun_plan(self.failed(), prompts)
        kwargs = self._rerun_kwargs(route, options)
        return [self._client.complete(p, tags=t, **kwargs) for p, t in todo]

    async def arerun_failed(
        self,
        *,
        prompts: Sequence[Prompt] | None = None,
        route: str | Route | None = None,
        **options: Any,
    ) -> list[Reply]:
        """Async :meth:`rerun_failed` (through ``client.acomplete``)."""
        todo = self._rerun_plan(await self.afailed(), prompts)
        kwargs = self._rerun_kwargs(route, options)
        return [await self._client.acomplete(p, tags=t, **kwargs) for p, t in todo]

    # -- internals ---------------------------------------------------------------------

    def _pending(self) -> bool:
        return not self._known or any(i.reply is None for i in self._items)

    def _require_done(self) -> None:
        if not self.done:
            raise BatchNotEndedError(
                f"batch {self.id} is still in progress ({self.counts.done}/"
                f"{self.counts.total} done): call job.wait(), or job.results() once it ended",
                job_id=self.id,
                status=self.status,
            )

    def _replies(self) -> list[Reply]:
        return [i.reply for i in self._items if i.reply is not None]

    def _failed(self) -> list[FailedItem]:
        out = []
        for item in self._items:
            result = item.result
            if result is None or result.kind == "succeeded":
                continue
            out.append(
                FailedItem(
                    item.index,
                    item.custom_id,
                    result.kind,
                    result.error_type,
                    result.message,
                    item.call.tags,
                    item.prompt,
                )
            )
        return out

    def _rerun_plan(
        self, failed: list[FailedItem], prompts: Sequence[Prompt] | None
    ) -> list[tuple[Prompt, Tags]]:
        if prompts is not None and len(prompts) != len(self):
            raise ConfigurationError(
                f"prompts= must be the {len(self)} prompts submitted in this batch, "
                f"got {len(prompts)}"
            )
        todo: list[tuple[Prompt, Tags]] = []
        for f in failed:
            prompt = prompts[f.index] if prompts is not None else f.prompt
            if prompt is None:
                raise ConfigurationError(
                    f"batch {self.id} was resumed by id, so its prompts are not known here "
                    "(thinllm never stores prompt text): pass rerun_failed(prompts=[...]) "
                    "with the list you submitted"
                )
            todo.append((prompt, f.tags))
        return todo

    def _rerun_kwargs(
        self, route: str | Route | None, options: Mapping[str, Any]
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {**self._options, **options}
        kwargs["route"] = route if route is not None else self._route
        if self._extra and "extra" not in options:
            kwargs["extra"] = self._extra
        return kwargs

    def _absorb(self, results: list[ItemResult]) -> None:
        """Turn the vendor's item results into replies and (once) audit events."""
        if not self._known:
            self._adopt(results)
        self._recorded |= _recorded_elsewhere(self.id)
        by_id = {r.custom_id: r for r in results}
        fresh: list[str] = []
        for item in self._items:
            if item.reply is not None:
                continue
            result = by_id.get(item.custom_id) or self._missing(item)
            item.result = result
            record = item.custom_id not in self._recorded
            item.reply = self._conclude(item, result, record=record)
            if record:
                self._recorded.add(item.custom_id)
                fresh.append(item.custom_id)
        if fresh:
            self._save()

    def _adopt(self, results: list[ItemResult]) -> None:
        """Items for a job resumed without its record: prompt order from the ids."""
        from .._tags import current_tags

        _log.warning(
            "thinllm: no local record of batch %s (looked in %s): its items are audited "
            "with the current ambient tags and new call ids",
            self.id,
            _state.state_dir(),
        )

        def rank(n: int) -> tuple[int, int]:
            index = index_of(results[n].custom_id)
            # thinllm's own ids first, by index; anything else after, in vendor order.
            return (0, index) if index is not None else (1, n)

        order = sorted(range(len(results)), key=rank)
        tags = current_tags()
        self._items = []
        for position, n in enumerate(order):
            call = Call(
                prompt=None,
                tags=tags,
                options=dict(self._options),
                routes=[self._route],
                retry=None,
                started=self._submitted_at,
                batch=True,
            )
            self._items.append(Item(position, results[n].custom_id, call))
        self._known = True

    def _missing(self, item: Item) -> ItemResult:
        """The result of an item the vendor returned nothing for."""
        status = self._status.status
        if status in ("canceled", "expired"):
            return _wire.ItemResult(item.custom_id, status, error_type=f"batch_{status}")  # type: ignore[arg-type]
        message = self._status.problem or "the vendor returned no result for this item"
        return _wire.ItemResult(
            item.custom_id, "errored", error_type="batch_missing_result", message=message
        )

    def _conclude(self, item: Item, result: ItemResult, *, record: bool) -> Reply:
        client, route, call = self._client, self._route, item.call
        latency = max(0.0, client._clock() - call.started)
        if result.kind == "succeeded":
            try:
                parsed = route.adapter.parse(result.raw)
            except Exception as exc:
                result = _wire.ItemResult(
                    item.custom_id,
                    "errored",
                    error_type="malformed_response",
                    message=f"{type(exc).__name__} while reading the item's response",
                )
                item.result = result
            else:
                if record:
                    call.attempt(route, status=200, error=None, latency=latency)
                    return client._conclude_ok(call, route, result.raw, parsed)
                if call.pii is not None and call.pii_action == "pseudonymize":
                    from .._outcomes import _restore

                    _restore(parsed, call.pii.restore)
                return Reply(
                    text=parsed.text,
                    usage=parsed.usage,
                    cost=client._price(parsed, route, batch=True),
                    route=route.name,
                    outcome="ok",
                    attempts=[Attempt(route.name, route.model, 200, None, latency * 1000.0)],
                    call_id=call.call_id,
                    raw=result.raw,
                    value=parsed.text,
                    tool_calls=parsed.tool_calls,
                    model=parsed.model or route.model,
                    finish_reason=parsed.finish_reason,
                )
        error_type = result.error_type or result.kind
        message = result.message or f"the batch item was {result.kind}"
        if record:
            call.attempt(
                route, status=result.status, error=error_type, latency=latency, message=message
            )
            client._record_failure(call, ItemError(error_type, message), outcome="error")
        attempts = list(call.attempts) or [
            Attempt(route.name, route.model, result.status, error_type, latency * 1000.0)
        ]
        return Reply(
            text="",
            usage=ZERO_USAGE,
            cost=None,
            route=route.name,
            outcome="error",
            attempts=attempts,
            call_id=call.call_id,
            raw=result.raw,
            value=None,
            model=route.model,
        )

    # -- the local record --------------------------------------------------------------

    def _save(self) -> None:
        _state.save(self._record())

    def _record(self) -> dict[str, Any]:
        items = []
        for item in self._items:
            call = item.call
            entry: dict[str, Any] = {
                "custom_id": item.custom_id,
                "index": item.index,
                "call_id": call.call_id,
                "tags": call.tags.as_dict(),
                "prompt_hash": call.prompt_hash
                or (call.prompt.static_hash() if call.prompt is not None else None),
                "pii": dict(call.pii.counts) if call.pii is not None else {},
                "pii_action": call.pii_action,
                "flag": call.flag,
            }
            reply = item.reply
            if reply is not None and reply.outcome == "blocked":
                entry["blocked"] = True
            items.append(entry)
        return {
            "schema": _state.SCHEMA,
            "id": self.id,
            "route": self._route.name,
            "api": self._route.api,
            "model": self._route.model,
            "submitted_at": self._submitted_at,
            "options": _json_safe(self._options),
            "extra": _json_safe(self._extra or {}),
            "items": items,
            "recorded": sorted(self._recorded),
        }


def _recorded_elsewhere(job_id: str) -> set[str]:
    record = _state.load(job_id)
    return set(record.get("recorded") or ()) if record is not None else set()


def _json_safe(options: Mapping[str, Any]) -> dict[str, Any]:
    """Options that survive a JSON round trip (headers never stored)."""
    import json

    out: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("extra_headers", "api_key", "authorization"):
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        out[key] = value
    return out


def _check_wait(poll: float, max_poll: float, timeout: float | None) -> None:
    if poll <= 0 or max_poll < poll:
        raise ConfigurationError("wait() needs poll > 0 and max_poll >= poll (seconds)")
    if timeout is not None and timeout < 0:
        raise ConfigurationError("wait(timeout=...) must be >= 0 seconds or None")
