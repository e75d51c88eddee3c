"""The two vendors' batch wire formats, written once for sync and async SDK clients.

Each operation is a generator that yields :class:`Op` steps (one SDK call each) and
returns a value; ``_ops.run`` / ``_ops.arun`` perform the steps under thinllm's retry
policy with a sync or an async client. Everything else here is pure translation:

- Anthropic Message Batches: ``messages.batches.create(requests=[{custom_id, params}])``,
  ``retrieve``, ``cancel``, ``results`` (JSON lines, in any order).
- OpenAI Batch API: a JSONL file (``purpose="batch"``) of
  ``{custom_id, method, url, body}``, then ``batches.create(input_file_id, endpoint,
  completion_window="24h")``; results are the output and error files.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ..errors import ConfigurationError

__all__ = [
    "Counts",
    "ItemResult",
    "Op",
    "Status",
    "batch_params",
    "cancel",
    "create",
    "results",
    "retrieve",
    "vendor_of_id",
]

Kind = Literal["succeeded", "errored", "expired", "canceled"]
Steps = Generator["Op", Any, Any]


@dataclass(frozen=True, slots=True)
class Op:
    """One SDK call: ``call(sdk)``; ``collect`` gathers an (async) iterator into a list."""

    call: Callable[[Any], Any]
    collect: bool = False


@dataclass(frozen=True, slots=True)
class Counts:
    """Items per state, as the vendor reports them (plus items thinllm blocked)."""

    processing: int = 0
    succeeded: int = 0
    errored: int = 0
    expired: int = 0
    canceled: int = 0
    blocked: int = 0

    @property
    def total(self) -> int:
        """Every item of the job, blocked ones included."""
        return (
            self.processing
            + self.succeeded
            + self.errored
            + self.expired
            + self.canceled
            + self.blocked
        )

    @property
    def done(self) -> int:
        """Items with a final state."""
        return self.total - self.processing


@dataclass(frozen=True, slots=True)
class Status:
    """A batch's state in thinllm's vocabulary."""

    status: str  # "in_progress" | "ended" | "canceled" | "expired" | "failed"
    counts: Counts
    created_at: datetime | None
    expires_at: datetime | None
    #: OpenAI only: where the answers and the errors are.
    output_file_id: str | None = None
    error_file_id: str | None = None
    #: Why the whole batch failed (OpenAI validation errors), if it did.
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """One item's outcome; ``raw`` is the native response for succeeded items."""

    custom_id: str
    kind: Kind
    raw: Any = None
    error_type: str | None = None
    status: int | None = None
    message: str | None = None


def vendor_of_id(job_id: str) -> str | None:
    """``"anthropic"`` or ``"openai"`` from the shape of a batch id (``None``: unknown)."""
    if job_id.startswith("msgbatch_"):
        return "anthropic"
    if job_id.startswith("batch_"):
        return "openai"
    return None


def batch_params(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Rendered SDK keyword arguments as one batch item's request body.

    ``extra_body`` fields are merged in (they are body fields); headers and query
    parameters have no per-item form in either batch API, so they are refused.
    """
    out = dict(kwargs)
    for key in ("extra_headers", "extra_query"):
        if out.get(key):
            raise ConfigurationError(
                f"{key} cannot be sent inside a batch item (batch APIs take one body per "
                "item); set them on the vendor client instead"
            )
        out.pop(key, None)
    out.update(out.pop("extra_body", None) or {})
    return out


def _endpoint(api: str) -> str:
    return "/v1/chat/completions" if api == "chat" else "/v1/responses"


# -- operations ----------------------------------------------------------------------


def create(api: str, items: list[tuple[str, dict[str, Any]]]) -> Steps:
    """Submit ``(custom_id, body)`` items; returns the vendor's batch object."""
    if api == "messages":
        requests = [{"custom_id": cid, "params": body} for cid, body in items]
        return (yield Op(lambda sdk: sdk.messages.batches.create(requests=requests)))
    endpoint = _endpoint(api)
    data = "".join(
        json.dumps({"custom_id": cid, "method": "POST", "url": endpoint, "body": body}) + "\n"
        for cid, body in items
    ).encode()
    upload = ("thinllm-batch.jsonl", data, "application/jsonl")
    file = yield Op(lambda sdk: sdk.files.create(file=upload, purpose="batch"))
    return (
        yield Op(
            lambda sdk: sdk.batches.create(
                input_file_id=file.id, endpoint=endpoint, completion_window="24h"
            )
        )
    )


def retrieve(api: str, job_id: str) -> Steps:
    """The vendor's current batch object."""
    if api == "messages":
        return (yield Op(lambda sdk: sdk.messages.batches.retrieve(job_id)))
    return (yield Op(lambda sdk: sdk.batches.retrieve(job_id)))


def cancel(api: str, job_id: str) -> Steps:
    """Ask the vendor to stop the batch; returns the batch object."""
    if api == "messages":
        return (yield Op(lambda sdk: sdk.messages.batches.cancel(job_id)))
    return (yield Op(lambda sdk: sdk.batches.cancel(job_id)))


def results(api: str, job_id: str, status: Status) -> Steps:
    """Every item result the vendor has for an ended batch (in the vendor's order)."""
    if api == "messages":
        lines = yield Op(lambda sdk: sdk.messages.batches.results(job_id), collect=True)
        return [_anthropic_item(line) for line in lines]
    out: list[ItemResult] = []
    for file_id in (status.output_file_id, status.error_file_id):
        if file_id:
            content = yield Op(_file_content(file_id))
            out.extend(_openai_items(content.text, api))
    return out


def _file_content(file_id: str) -> Callable[[Any], Any]:
    return lambda sdk: sdk.files.content(file_id)


# -- translation ---------------------------------------------------------------------


def status_of(api: str, raw: Any) -> Status:
    """Normalize a vendor batch object."""
    if api == "messages":
        return _anthropic_status(raw)
    return _openai_status(raw)


def _anthropic_status(raw: Any) -> Status:
    c = raw.request_counts
    counts = Counts(
        processing=c.processing,
        succeeded=c.succeeded,
        errored=c.errored,
        expired=c.expired,
        canceled=c.canceled,
    )
    if raw.processing_status != "ended":
        status = "in_progress"  # "canceling" is still running
    elif raw.cancel_initiated_at is not None:
        status = "canceled"
    elif counts.expired:
        status = "expired"  # reached its 24 h limit with items unprocessed
    else:
        status = "ended"
    return Status(status, counts, raw.created_at, raw.expires_at)


_OPENAI_STATUS = {
    "validating": "in_progress",
    "in_progress": "in_progress",
    "finalizing": "in_progress",
    "cancelling": "in_progress",
    "completed": "ended",
    "cancelled": "canceled",
    "expired": "expired",
    "failed": "failed",
}


def _openai_status(raw: Any) -> Status:
    status = _OPENAI_STATUS.get(raw.status, "in_progress")
    c = raw.request_counts
    total, ok, failed = (c.total, c.completed, c.failed) if c is not None else (0, 0, 0)
    rest = max(0, total - ok - failed)
    counts = Counts(
        processing=rest if status == "in_progress" else 0,
        succeeded=ok,
        errored=failed + (rest if status in ("ended", "failed") else 0),
        expired=rest if status == "expired" else 0,
        canceled=rest if status == "canceled" else 0,
    )
    problem = None
    errors = getattr(raw, "errors", None)
    if errors is not None and getattr(errors, "data", None):
        problem = "; ".join(str(e.message) for e in errors.data if getattr(e, "message", None))
    return Status(
        status,
        counts,
        _epoch(raw.created_at),
        _epoch(raw.expires_at),
        raw.output_file_id,
        raw.error_file_id,
        problem,
    )


def _epoch(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


# Anthropic batch errors carry a type but no HTTP status; these are the documented pairs.
_ANTHROPIC_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def _anthropic_item(line: Any) -> ItemResult:
    result = line.result
    kind = result.type
    if kind == "succeeded":
        return ItemResult(line.custom_id, "succeeded", raw=result.message)
    if kind == "errored":
        error = getattr(result.error, "error", None)
        error_type = getattr(error, "type", None) or "api_error"
        return ItemResult(
            line.custom_id,
            "errored",
            raw=line,
            error_type=error_type,
            status=_ANTHROPIC_STATUS.get(error_type),
            message=getattr(error, "message", None),
        )
    reason: Kind = "expired" if kind == "expired" else "canceled"
    return ItemResult(line.custom_id, reason, raw=line, error_type=f"batch_{reason}")


def _openai_items(text: str, api: str) -> Iterable[ItemResult]:
    for line in text.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        yield _openai_item(entry, api)


def _openai_item(entry: dict[str, Any], api: str) -> ItemResult:
    custom_id = str(entry.get("custom_id"))
    response = entry.get("response") or {}
    status = response.get("status_code")
    body = response.get("body") or {}
    if status == 200:
        return ItemResult(custom_id, "succeeded", raw=_openai_response(body, api))
    error = body.get("error") or entry.get("error") or {}
    code = error.get("code")
    if code in ("batch_expired", "batch_cancelled"):
        reason: Kind = "expired" if code == "batch_expired" else "canceled"
        return ItemResult(custom_id, reason, raw=entry, error_type=f"batch_{reason}")
    return ItemResult(
        custom_id,
        "errored",
        raw=entry,
        error_type=error.get("type") or code or "api_error",
        status=status,
        message=error.get("message"),
    )


def _openai_response(body: dict[str, Any], api: str) -> Any:
    """The SDK's own response type, built the lenient way the SDK builds its responses."""
    if api == "chat":
        from openai.types.chat import ChatCompletion

        return ChatCompletion.construct(**body)
    from openai.types.responses import Response

    return Response.construct(**body)
