"""Batch mode: the system under test answers through the vendor batch API, at the batch rate.

Every (case, epoch) of a run that the generation cache cannot serve goes into ONE batch
(``client.abatch``, same route, options and tags as a normal eval call), which is then
waited on with the client's own sleep. Each item becomes a :class:`BatchItem` that the
runner resolves in place of a live call, so grading, caching and records are the same
as in a normal run.

- An item the vendor failed (errored, expired, canceled) is retried once through the
  normal synchronous path at the normal rate; the batch try counts as a retry. If that
  call fails too, the record is an error, as in a normal run.
- A batch that cannot be submitted or collected makes every item an error (nothing is
  silently re-run at full price); a later run of the same ``--out`` resumes it.
- With a run directory, ``batch.json`` holds the job id and its (case, epoch) items, so
  a run interrupted while waiting (hours, perhaps) collects the same batch when run
  again instead of paying for a second one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thinllm.errors import ConfigurationError

from ._cache import EvalCache, generation_key
from ._target import ClientTarget, Generation, Target, from_reply

if TYPE_CHECKING:
    from thinllm._prompt import Prompt

    from ._cases import Case
    from ._spec import Eval

__all__ = ["BATCH_FILE", "BatchItem", "BatchModeError", "BatchedGenerations", "generate_in_batch"]

BATCH_FILE = "batch.json"
_SCHEMA = "thinllm.eval-batch/1"

Key = tuple[str, int]


@dataclass(frozen=True, slots=True)
class BatchItem:
    """What the batch gave one (case, epoch): a generation, a failed item, or an error."""

    generation: Generation | None = None
    #: The batch as a whole could not be submitted or collected.
    error: BaseException | None = None
    #: A failed item's attempts (retried synchronously by :meth:`resolve`).
    failed_attempts: tuple[Mapping[str, Any], ...] = ()
    latency_ms: float = 0.0

    async def resolve(self, call: Callable[[], Awaitable[Generation]]) -> Generation:
        """The generation; a failed item is retried once through ``call`` (the normal path)."""
        if self.generation is not None:
            return self.generation
        if self.error is not None:
            raise self.error
        retried = await call()
        return replace(
            retried,
            retries=retried.retries + 1,
            attempts=(*self.failed_attempts, *retried.attempts),
            latency_ms=self.latency_ms + retried.latency_ms,
        )


class BatchModeError(Exception):
    """A batch could not be read back from the vendor (recorded as every item's error)."""


class BatchedGenerations:
    """The batch's items by (case id, epoch), and the resume file while they are pending."""

    def __init__(self, items: Mapping[Key, BatchItem], state: Path | None = None) -> None:
        self.items = dict(items)
        self._state = state

    def get(self, case_id: str, epoch: int) -> BatchItem | None:
        """The item for this (case, epoch), or ``None`` (not in the batch: cached or done)."""
        return self.items.get((case_id, epoch))

    def finish(self) -> None:
        """Forget the resume file once every record of the batch is written (kept when
        the batch could not be collected, so the next run resumes it)."""
        if self._state is not None and not any(i.error for i in self.items.values()):
            self._state.unlink(missing_ok=True)


async def generate_in_batch(
    eval_: Eval,
    target: Target,
    todo: Sequence[tuple[Case, int]],
    prompts: Mapping[str, Prompt],
    cache: EvalCache | None,
    out: Path | None,
) -> BatchedGenerations:
    """Submit the uncached ``todo`` generations as one batch, wait, and map the replies."""
    if not isinstance(target, ClientTarget):
        raise ConfigurationError(
            "batch mode needs the system under test to be a thinllm client route "
            "(client= or routes=), not a function target"
        )
    if target.output is not None:
        raise ConfigurationError(
            "batch mode does not support output= (vendor batch APIs have no structured "
            "output); drop output= or run without batch mode"
        )
    pending: list[tuple[Case, int]] = []
    for case, epoch in todo:
        if cache is not None:
            cache_key = generation_key(
                target.model, eval_.options, target.request(prompts[case.id]), epoch
            )
            if cache.get("generations", cache_key) is not None:
                continue  # the runner serves it from the cache
        pending.append((case, epoch))
    if not pending:
        return BatchedGenerations({})
    keys = [(c.id, e) for c, e in pending]
    state = out / BATCH_FILE if out is not None else None
    client = target.client
    clock: Callable[[], float] = client._clock
    try:
        job, submitted, order = await _resume(client, target, state, keys)
        if job is None:
            submitted = clock()
            job = await client.abatch(
                [prompts[c.id] for c, _ in pending],
                tags=target.tags,
                route=target.route,
                **target.options,
            )
            order = keys
            _save(state, job.id, target.arm, submitted, keys)
        replies = await job.wait_async()
    except ConfigurationError:
        raise  # the eval is misconfigured: a harness error, as in a normal run
    except Exception as exc:  # every item errors; a later run resumes the batch
        return BatchedGenerations({k: BatchItem(error=exc) for k in keys}, state)
    latency_ms = max(0.0, clock() - submitted) * 1000.0
    if len(replies) != len(order):
        problem = BatchModeError(
            f"batch {job.id} returned {len(replies)} results for {len(order)} items"
        )
        return BatchedGenerations({k: BatchItem(error=problem) for k in keys}, state)
    by_key = dict(zip(order, replies, strict=True))
    items: dict[Key, BatchItem] = {}
    for key in keys:
        reply = by_key[key]
        if reply.outcome == "ok":
            items[key] = BatchItem(generation=from_reply(reply, latency_ms))
        else:
            attempts = tuple(a.as_dict() for a in reply.attempts)
            items[key] = BatchItem(failed_attempts=attempts, latency_ms=latency_ms)
    return BatchedGenerations(items, state)


async def _resume(
    client: Any, target: ClientTarget, state: Path | None, keys: Sequence[Key]
) -> tuple[Any, float, list[Key]]:
    """The batch an interrupted run of this directory submitted, if it covers ``keys``."""
    if state is None or not state.exists():
        return None, 0.0, []
    try:
        saved = json.loads(state.read_text(encoding="utf-8"))
        order = [(str(c), int(e)) for c, e in saved["items"]]
        job_id, arm, submitted = str(saved["job_id"]), saved["arm"], float(saved["submitted"])
    except (ValueError, KeyError, TypeError):
        return None, 0.0, []
    if arm != target.arm or not set(keys) <= set(order):
        return None, 0.0, []  # a different batch: submit a new one (the file is replaced)
    try:
        job = await client.abatch_job(job_id, route=target.route)
    except ConfigurationError:
        raise
    except Exception as exc:
        raise BatchModeError(
            f"could not read batch {job_id}, submitted by an earlier run of this directory "
            f"({type(exc).__name__}: {exc}); delete {state} to submit a new batch"
        ) from exc
    return job, submitted, order


def _save(state: Path | None, job_id: str, arm: str, submitted: float, keys: Sequence[Key]) -> None:
    if state is None:
        return
    data = {
        "schema": _SCHEMA,
        "job_id": job_id,
        "arm": arm,
        "submitted": submitted,
        "items": [list(k) for k in keys],
    }
    state.write_text(json.dumps(data) + "\n", encoding="utf-8")
