"""Running an eval: every (case, epoch) generated, graded and recorded, concurrently.

Concurrency is bounded by a semaphore; each generation has a timeout; retries happen in
the client and are recorded; an error is recorded as an error, never as a failure.
Finished records are appended to ``results.jsonl`` as they complete, so a crashed run
resumes from where it stopped. In batch mode (``_batchmode``) the uncached generations
are made first, as one vendor batch, and then graded the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thinllm._prompt import Prompt
from thinllm.errors import ConfigurationError, RoutesExhaustedError, ThinLLMError

from ._batchmode import BatchedGenerations, BatchItem, generate_in_batch
from ._cache import EvalCache, generation_key, grade_key
from ._cases import Case, sha256
from ._grading import GradeResult, GraderInfo, Output, decide, grader_info, run_grader
from ._records import GradeRecord, Record, ResultsWriter, read_records
from ._run import MANIFEST, RESULTS, RUN_SCHEMA, Run, git_info, thinllm_version, write_summary
from ._target import Generation, Target

if TYPE_CHECKING:
    from ._spec import Eval

__all__ = ["arun", "run"]

ProgressFn = Callable[[Record], None]


def run(
    eval_: Eval,
    *,
    out: str | Path | None = None,
    arm: str | None = None,
    epochs: int | None = None,
    cache: EvalCache | None = None,
    progress: ProgressFn | None = None,
    batch: bool | None = None,
) -> Run:
    """Run an eval synchronously (see :func:`arun`)."""
    return asyncio.run(
        arun(eval_, out=out, arm=arm, epochs=epochs, cache=cache, progress=progress, batch=batch)
    )


async def arun(
    eval_: Eval,
    *,
    out: str | Path | None = None,
    arm: str | None = None,
    epochs: int | None = None,
    cache: EvalCache | None = None,
    progress: ProgressFn | None = None,
    target: Target | None = None,
    batch: bool | None = None,
) -> Run:
    """Run every case ``epochs`` times against ``arm`` (a route name or model).

    With ``out``, records go to a run directory and a run interrupted earlier is
    resumed: finished (case, epoch) records are kept, errored ones are retried.
    ``cache`` serves unchanged generations and grades from disk. ``batch`` (default:
    the eval's ``batch``) sends the uncached generations as one vendor batch.
    """
    batch = eval_.batch if batch is None else batch
    target = target or eval_.make_target(arm)
    k = epochs or eval_.epochs or 1
    cases = eval_.load_cases()
    fingerprint = eval_.graders_fingerprint
    prompts = {c.id: _prompt_for(eval_, c) for c in cases}
    manifest = _manifest(eval_, target, cases, prompts, k) | {"batch": batch}
    path = Path(out) if out is not None else None
    previous: list[Record] = []
    if path is not None:
        previous = _prepare_dir(path, manifest)
    hashes = {c.id: c.hash_with(fingerprint) for c in cases}
    done = {
        r.key
        for r in previous
        if not r.errored and hashes.get(r.case_id) == r.case_hash and r.epoch < k
    }
    infos = [(g, grader_info(g)) for g in eval_.graders]
    # Render one request before anything is sent: an option the route refuses is a
    # configuration error of the whole run, not an error of every case.
    target.request(prompts[cases[0].id])
    todo = [(c, e) for e in range(k) for c in cases if (c.id, e) not in done]
    batched = BatchedGenerations({})
    if batch and todo:
        batched = await generate_in_batch(eval_, target, todo, prompts, cache, path)
    writer = ResultsWriter(path / RESULTS) if path is not None else None
    semaphore = asyncio.Semaphore(eval_.concurrency)
    fresh: list[Record] = []

    async def one(case: Case, epoch: int) -> None:
        async with semaphore:
            record = await _run_one(
                eval_,
                target,
                case,
                prompts[case.id],
                epoch,
                hashes[case.id],
                infos,
                cache,
                batched.get(case.id, epoch),
            )
        fresh.append(record)
        if writer is not None:
            writer.write(record)
        if progress is not None:
            progress(record)

    try:
        # A TaskGroup cancels the other jobs when one raises (a harness error).
        try:
            async with asyncio.TaskGroup() as group:
                for c, e in todo:
                    group.create_task(one(c, e))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
    finally:
        if writer is not None:
            writer.close()
    batched.finish()
    kept = [r for r in previous if r.key in done and not r.errored]
    result = Run(manifest, [*kept, *fresh], path=path)
    write_summary(result)
    return result


def _prompt_for(eval_: Eval, case: Case) -> Prompt:
    try:
        prompt = eval_.prompt(case)
    except ThinLLMError:
        raise
    except Exception as exc:
        raise ConfigurationError(
            f"the prompt function failed on case {case.id!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(prompt, Prompt):
        raise ConfigurationError(
            f"the prompt function must return thinllm.Prompt, got {type(prompt).__name__} "
            f"for case {case.id!r}"
        )
    return prompt


def _prompt_key(prompt: Prompt) -> list[Any]:
    return [prompt.static_hash(), [[m.role, m.text] for m in prompt.messages]]


def _manifest(
    eval_: Eval, target: Target, cases: Sequence[Case], prompts: Mapping[str, Prompt], k: int
) -> dict[str, Any]:
    graders = [
        {
            "name": i.name,
            "version": i.version,
            "weight": i.weight,
            "required": i.required,
            "config": i.config,
        }
        for i in (grader_info(g) for g in eval_.graders)
    ]
    prompt_hash = sha256([_prompt_key(prompts[c.id]) for c in cases])
    identity = sha256(
        [
            eval_.name,
            target.arm,
            target.model,
            eval_.options,
            eval_.dataset_hash(),
            prompt_hash,
            eval_.graders_fingerprint,
        ]
    )
    return {
        "schema": RUN_SCHEMA,
        "eval": eval_.name,
        "arm": target.arm,
        "model": target.model,
        "identity": identity,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_info(eval_.base_dir),
        "thinllm_version": thinllm_version(),
        "dataset_hash": eval_.dataset_hash(),
        "prompt_hash": prompt_hash,
        "static_prompt_hashes": sorted({p.static_hash() for p in prompts.values()}),
        "graders": graders,
        "graders_fingerprint": eval_.graders_fingerprint,
        "params": eval_.options,
        "tags": eval_.tags.as_dict(),
        "cases": len(cases),
        "epochs": k,
        "concurrency": eval_.concurrency,
        "timeout_s": eval_.timeout,
        "threshold": eval_.threshold,
        "metric": eval_.metric,
        "margin": eval_.margin,
        "alpha": eval_.alpha,
        "max_error_rate": eval_.max_error_rate,
        "seed": eval_.seed,
    }


def _prepare_dir(path: Path, manifest: dict[str, Any]) -> list[Record]:
    """Create the run directory, or resume the compatible run already in it."""
    path.mkdir(parents=True, exist_ok=True)
    manifest_path = path / MANIFEST
    previous: list[Record] = []
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text(encoding="utf-8"))
        if old.get("identity") != manifest["identity"]:
            raise ConfigurationError(
                f"{path} holds a run of a different eval configuration (cases, prompt, "
                "graders, model or parameters changed); use a new --out directory"
            )
        previous = list(read_records(path / RESULTS))
    elif (path / RESULTS).exists():
        raise ConfigurationError(f"{path} has results but no manifest; use a new --out directory")
    manifest_path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    return previous


async def _run_one(
    eval_: Eval,
    target: Target,
    case: Case,
    prompt: Prompt,
    epoch: int,
    case_hash: str,
    infos: Sequence[tuple[Any, GraderInfo]],
    cache: EvalCache | None,
    batched: BatchItem | None = None,
) -> Record:
    base: dict[str, Any] = {
        "case_id": case.id,
        "case_hash": case_hash,
        "epoch": epoch,
        "arm": target.arm,
        "tags": case.tags,
        "critical": case.critical,
        "input": case.input,
        "expected": case.expected,
    }
    try:
        generation, from_cache = await _generate(eval_, target, prompt, epoch, cache, batched)
    except ConfigurationError:
        raise  # the eval is misconfigured: stop the run (harness error)
    except Exception as exc:  # recorded, counted apart from failures
        return Record(
            **base,
            model=target.model,
            output=None,
            passed=None,
            score=None,
            error=_error(exc, eval_.timeout),
            retries=_retries(exc),
            attempts=tuple(a.as_dict() for a in getattr(exc, "attempts", ())),
        )
    output = Output(generation.text, generation.tool_calls, generation.parsed)
    generation_fields: dict[str, Any] = {
        "output": generation.text,
        "tool_calls": generation.tool_calls,
        "usage": {**_zero_usage(), **dict(generation.usage)},
        "cost_usd": "0" if from_cache else _money(generation.cost),
        "cost_equiv_usd": _money(generation.cost),
        "latency_ms": round(generation.latency_ms, 3),
        "retries": generation.retries,
        "attempts": generation.attempts,
        "from_cache": from_cache,
        "finish_reason": generation.finish_reason,
        "model": generation.model or target.model,
    }
    grades: list[tuple[GraderInfo, GradeResult, bool]] = []
    for grader, info in infos:
        try:
            grade, hit = await _grade(eval_, grader, info, output, case, cache)
        except Exception as exc:
            error = {"type": "grader_error", "message": f"{info.name}: {type(exc).__name__}: {exc}"}
            return Record(**base, **generation_fields, passed=None, score=None, error=error)
        grades.append((info, grade, hit))
    passed, score = decide([(i, g) for i, g, _ in grades], eval_.threshold)
    judge_usage: dict[str, int] = {}
    judge_cost = Decimal(0)
    for _, g, hit in grades:
        if not hit:
            for key, value in g.usage.items():
                judge_usage[key] = judge_usage.get(key, 0) + int(value)
            judge_cost += g.cost or 0
    return Record(
        **base,
        **generation_fields,
        passed=passed,
        score=score,
        grades=tuple(_grade_record(i, g, hit) for i, g, hit in grades),
        judge_usage=judge_usage,
        judge_cost_usd=str(judge_cost) if judge_usage or judge_cost else None,
    )


async def _generate(
    eval_: Eval,
    target: Target,
    prompt: Prompt,
    epoch: int,
    cache: EvalCache | None,
    batched: BatchItem | None = None,
) -> tuple[Generation, bool]:
    key = None
    if cache is not None:
        key = generation_key(target.model, eval_.options, target.request(prompt), epoch)
        # A batch item was not in the cache when the batch was planned.
        hit = cache.get("generations", key) if batched is None else None
        if hit is not None:
            return Generation.from_cache(hit), True

    def call() -> Awaitable[Generation]:
        return asyncio.wait_for(target.generate(prompt), eval_.timeout)

    if batched is not None:
        generation = await batched.resolve(call)
    else:
        generation = await call()
    if cache is not None and key is not None:
        cache.put("generations", key, generation.to_cache())
    return generation, False


async def _grade(
    eval_: Eval,
    grader: Any,
    info: GraderInfo,
    output: Output,
    case: Case,
    cache: EvalCache | None,
) -> tuple[GradeResult, bool]:
    key = None
    if cache is not None and info.cacheable:
        key = grade_key(info.key, [output.text, list(output.tool_calls)], case.expected)
        hit = cache.get("grades", key)
        if hit is not None:
            return _grade_from_cache(hit), True
    grade = await asyncio.wait_for(run_grader(grader, output, case), eval_.timeout)
    if key is not None and cache is not None:
        cache.put(
            "grades",
            key,
            {
                "passed": grade.passed,
                "score": grade.score,
                "reason": grade.reason,
                "usage": dict(grade.usage),
                "cost": _money(grade.cost),
            },
        )
    return grade, False


def _grade_from_cache(data: Mapping[str, Any]) -> GradeResult:
    cost = data.get("cost")
    return GradeResult(
        passed=bool(data["passed"]),
        score=data.get("score"),
        reason=str(data.get("reason", "")),
        usage=data.get("usage") or {},
        cost=None if cost is None else Decimal(cost),
    )


def _grade_record(info: GraderInfo, grade: GradeResult, hit: bool) -> GradeRecord:
    return GradeRecord(
        name=info.name,
        version=info.version,
        passed=grade.passed,
        score=grade.score,
        reason=grade.reason,
        required=info.required,
        weight=info.weight,
        from_cache=hit,
        usage=dict(grade.usage),
        cost_usd=_money(grade.cost),
    )


def _error(exc: BaseException, timeout: float | None) -> dict[str, str]:
    if isinstance(exc, TimeoutError):
        return {"type": "timeout", "message": f"no answer within {timeout}s"}
    if isinstance(exc, ThinLLMError):
        return {"type": exc.error_type, "message": str(exc)[:500]}
    return {"type": type(exc).__name__, "message": str(exc)[:500]}


def _retries(exc: BaseException) -> int:
    if isinstance(exc, RoutesExhaustedError):
        return max(0, len(exc.attempts) - 1)
    return 0


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _zero_usage() -> dict[str, int]:
    return {"input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0}
