"""Batch endpoints: Anthropic Message Batches and OpenAI Files + Batches.

A batch stays in progress for ``batch_delay`` status polls (0: it is done when
created), then every item is answered with the same reply scripting, token counting
and cache simulation as a live call. A fault queued with ``custom_id=`` errors that
item. Usage is reported as the vendor reports it; pricing applies the discount.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from . import _anthropic_wire as anthropic_wire
from . import _openai_wire as openai_wire
from ._answer import fake_id
from ._wire import Wire, json_wire

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._faults import Fault
    from ._handler import Handler
    from ._model import FakeRequest

__all__ = ["BatchStore"]

_DAY = 24 * 3600


@dataclass(slots=True)
class _Batch:
    id: str
    vendor: Literal["anthropic", "openai"]
    items: list[tuple[str, dict[str, Any]]]  # (custom_id, request body)
    created: float
    endpoint: str = "/v1/messages"
    input_file_id: str = ""
    metadata: dict[str, Any] | None = None
    polls: int = 0
    state: Literal["in_progress", "canceling", "ended"] = "in_progress"
    ended_at: float | None = None
    cancel_at: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class _File:
    id: str
    filename: str
    purpose: str
    content: bytes
    created: float


class BatchStore:
    """The fake's batches and files (thread-safe)."""

    def __init__(self, handler: Handler, delay: Callable[[], int]) -> None:
        self._handler = handler
        self._delay = delay
        self._lock = threading.RLock()
        self._batches: dict[str, _Batch] = {}
        self._files: dict[str, _File] = {}

    def clear(self) -> None:
        """Forget every batch and file."""
        with self._lock:
            self._batches.clear()
            self._files.clear()

    # -- routing -----------------------------------------------------------------------

    def handle(self, request: FakeRequest, query: dict[str, str], headers: dict[str, str]) -> Wire:
        """Answer a batch or file request."""
        del query  # pagination is not simulated: every list is one page
        parts = [p for p in request.path.split("/") if p and p != "v1"]
        host = request.headers.get("host", "localhost")
        with self._lock:
            if request.vendor == "anthropic":
                return self._anthropic(request, parts[2:], headers, f"http://{host}")
            if request.api == "files":
                return self._files_api(request, parts[1:], headers)
            return self._openai(request, parts[1:], headers)

    def _not_found(self, request: FakeRequest, what: str, headers: dict[str, str]) -> Wire:
        return self._handler.error(request, 404, f"No such {what}.", headers, "not_found")

    # -- Anthropic ---------------------------------------------------------------------

    def _anthropic(
        self, request: FakeRequest, rest: list[str], headers: dict[str, str], base: str
    ) -> Wire:
        method = request.method
        if not rest:
            if method == "GET":
                data = [
                    self._anthropic_json(b, base)
                    for b in self._batches.values()
                    if b.vendor == "anthropic"
                ]
                return json_wire(200, _page(data), headers)
            if method == "POST":
                return self._anthropic_create(request, headers, base)
        batch = self._batches.get(rest[0])
        if batch is None or batch.vendor != "anthropic":
            return self._not_found(request, "message batch", headers)
        tail = rest[1:]
        if method == "GET" and not tail:
            self._poll(batch)
            return json_wire(200, self._anthropic_json(batch, base), headers)
        if method == "DELETE" and not tail:
            del self._batches[batch.id]
            return json_wire(200, {"id": batch.id, "type": "message_batch_deleted"}, headers)
        if method == "POST" and tail == ["cancel"]:
            if batch.state == "in_progress":
                batch.state = "canceling"
                batch.cancel_at = time.time()
            return json_wire(200, self._anthropic_json(batch, base), headers)
        if method == "GET" and tail == ["results"]:
            if batch.state != "ended":
                message = f"Batch {batch.id} is still in progress; results are not available."
                return self._handler.error(request, 400, message, headers)
            lines = "".join(json.dumps(r) + "\n" for r in batch.results).encode()
            return Wire(200, {**headers, "content-type": "application/binary"}, lines)
        return self._not_found(request, "route", headers)

    def _anthropic_create(self, request: FakeRequest, headers: dict[str, str], base: str) -> Wire:
        body = request.body
        unknown = [k for k in body if k != "requests"]
        if unknown:
            message = f"{unknown[0]}: Extra inputs are not permitted"
            return self._handler.error(request, 400, message, headers)
        items = body.get("requests")
        if not isinstance(items, list) or not items:
            return self._handler.error(request, 400, "requests: Field required", headers)
        seen: set[str] = set()
        parsed: list[tuple[str, dict[str, Any]]] = []
        for i, item in enumerate(items):
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            params = item.get("params") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not isinstance(params, dict):
                message = f"requests.{i}: custom_id and params are required"
                return self._handler.error(request, 400, message, headers)
            if custom_id in seen:
                message = f"requests.{i}.custom_id: duplicate custom_id {custom_id!r}"
                return self._handler.error(request, 400, message, headers)
            seen.add(custom_id)
            parsed.append((custom_id, params))
        batch_id = fake_id("msgbatch_", self._handler.next_seq())
        batch = _Batch(batch_id, "anthropic", parsed, time.time())
        self._batches[batch_id] = batch
        self._poll(batch, creating=True)
        return json_wire(200, self._anthropic_json(batch, base), headers)

    def _anthropic_json(self, batch: _Batch, base: str) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.state == "ended":
            for result in batch.results:
                counts[result["result"]["type"]] += 1
        else:
            counts["processing"] = len(batch.items)
        ended = batch.state == "ended"
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": batch.state,
            "request_counts": counts,
            "created_at": _iso(batch.created),
            "expires_at": _iso(batch.created + _DAY),
            "ended_at": _iso(batch.ended_at) if batch.ended_at else None,
            "archived_at": None,
            "cancel_initiated_at": _iso(batch.cancel_at) if batch.cancel_at else None,
            "results_url": f"{base}/v1/messages/batches/{batch.id}/results" if ended else None,
        }

    def _anthropic_item(self, custom_id: str, params: dict[str, Any], canceled: bool) -> Any:
        if canceled:
            return {"custom_id": custom_id, "result": {"type": "canceled"}}
        request = self._item_request("anthropic", "messages", "/v1/messages", params, custom_id)
        error = self._item_error(request)
        if error is None:
            message = anthropic_wire.validate(params)
            if message is not None:
                error = (400, {"type": "invalid_request_error", "message": message})
        if error is not None:
            envelope = {"type": "error", "error": error[1]}
            return {"custom_id": custom_id, "result": {"type": "errored", "error": envelope}}
        answer = self._handler.answer(request)
        message_json = anthropic_wire.message_payload(answer, service_tier="batch")
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message_json}}

    # -- OpenAI files ------------------------------------------------------------------

    def _files_api(self, request: FakeRequest, rest: list[str], headers: dict[str, str]) -> Wire:
        method = request.method
        if not rest and method == "POST":
            upload = request.body.get("file")
            purpose = request.body.get("purpose")
            if not isinstance(upload, dict) or not isinstance(purpose, str):
                return self._handler.error(request, 400, "file and purpose are required", headers)
            file_id = fake_id("file-", self._handler.next_seq())
            content = str(upload.get("content", "")).encode()
            stored = _File(file_id, str(upload.get("filename")), purpose, content, time.time())
            self._files[file_id] = stored
            return json_wire(200, _file_json(stored), headers)
        if not rest and method == "GET":
            return json_wire(200, _page([_file_json(f) for f in self._files.values()]), headers)
        stored_file = self._files.get(rest[0]) if rest else None
        if stored_file is None:
            return self._not_found(request, "file", headers)
        if method == "GET" and len(rest) == 1:
            return json_wire(200, _file_json(stored_file), headers)
        if method == "GET" and rest[1:] == ["content"]:
            return Wire(
                200, {**headers, "content-type": "application/octet-stream"}, stored_file.content
            )
        if method == "DELETE" and len(rest) == 1:
            del self._files[stored_file.id]
            return json_wire(
                200, {"id": stored_file.id, "object": "file", "deleted": True}, headers
            )
        return self._not_found(request, "route", headers)

    def _store_file(self, purpose: str, filename: str, lines: list[dict[str, Any]]) -> str:
        file_id = fake_id("file-", self._handler.next_seq())
        content = "".join(json.dumps(line) + "\n" for line in lines).encode()
        self._files[file_id] = _File(file_id, filename, purpose, content, time.time())
        return file_id

    # -- OpenAI batches ----------------------------------------------------------------

    def _openai(self, request: FakeRequest, rest: list[str], headers: dict[str, str]) -> Wire:
        method = request.method
        if not rest:
            if method == "GET":
                data = [
                    self._openai_json(b) for b in self._batches.values() if b.vendor == "openai"
                ]
                return json_wire(200, _page(data), headers)
            if method == "POST":
                return self._openai_create(request, headers)
        batch = self._batches.get(rest[0])
        if batch is None or batch.vendor != "openai":
            return self._not_found(request, "batch", headers)
        if method == "GET" and len(rest) == 1:
            self._poll(batch)
            return json_wire(200, self._openai_json(batch), headers)
        if method == "POST" and rest[1:] == ["cancel"]:
            if batch.state == "in_progress":
                batch.state = "canceling"
                batch.cancel_at = time.time()
            return json_wire(200, self._openai_json(batch), headers)
        return self._not_found(request, "route", headers)

    def _openai_create(self, request: FakeRequest, headers: dict[str, str]) -> Wire:
        body = request.body
        allowed = {
            "completion_window",
            "endpoint",
            "input_file_id",
            "metadata",
            "output_expires_after",
        }
        for key in body:
            if key not in allowed:
                message = f"Unrecognized request argument supplied: {key}"
                return self._handler.error(request, 400, message, headers)
        for key in ("input_file_id", "endpoint", "completion_window"):
            if key not in body:
                message = f"Missing required parameter: '{key}'."
                return self._handler.error(request, 400, message, headers)
        endpoint = body["endpoint"]
        if endpoint not in ("/v1/chat/completions", "/v1/responses"):
            message = f"The fake vendor does not batch {endpoint!r}."
            return self._handler.error(request, 400, message, headers)
        source = self._files.get(body["input_file_id"])
        if source is None:
            return self._not_found(request, "file", headers)
        items: list[tuple[str, dict[str, Any]]] = []
        for number, line in enumerate(source.content.decode().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                items.append((str(entry["custom_id"]), dict(entry["body"])))
            except (ValueError, KeyError, TypeError):
                message = f"Line {number} of the input file is not a valid batch request."
                return self._handler.error(request, 400, message, headers)
            if entry.get("url") != endpoint:
                message = f"Line {number}: url {entry.get('url')!r} does not match {endpoint!r}."
                return self._handler.error(request, 400, message, headers)
        batch_id = fake_id("batch_", self._handler.next_seq())
        batch = _Batch(
            batch_id,
            "openai",
            items,
            time.time(),
            endpoint=endpoint,
            input_file_id=source.id,
            metadata=body.get("metadata"),
        )
        self._batches[batch_id] = batch
        self._poll(batch, creating=True)
        return json_wire(200, self._openai_json(batch), headers)

    def _openai_json(self, batch: _Batch) -> dict[str, Any]:
        status = {"in_progress": "in_progress", "canceling": "cancelling"}.get(batch.state)
        if status is None:
            status = "cancelled" if batch.cancel_at else "completed"
        ok = [r for r in batch.results if r["response"]["status_code"] == 200]
        failed = len(batch.results) - len(ok)
        done = batch.state == "ended"
        usage = _sum_usage([r["response"]["body"].get("usage") or {} for r in ok], batch.endpoint)
        created = int(batch.created)
        ended = int(batch.ended_at) if batch.ended_at else None
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "errors": None,
            "input_file_id": batch.input_file_id,
            "completion_window": "24h",
            "status": status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": created,
            "in_progress_at": created,
            "expires_at": created + _DAY,
            "finalizing_at": ended,
            "completed_at": ended if status == "completed" else None,
            "failed_at": None,
            "expired_at": None,
            "cancelling_at": int(batch.cancel_at) if batch.cancel_at else None,
            "cancelled_at": ended if status == "cancelled" else None,
            "request_counts": {
                "total": len(batch.items),
                "completed": len(ok) if done else 0,
                "failed": failed if done else 0,
            },
            "metadata": batch.metadata,
            "usage": usage if done else None,
        }

    def _openai_item(self, batch: _Batch, custom_id: str, body: dict[str, Any]) -> Any:
        api: Literal["chat", "responses"] = "chat" if "chat" in batch.endpoint else "responses"
        request = self._item_request("openai", api, batch.endpoint, body, custom_id)
        headers = self._handler.response_headers("openai")
        line_id = fake_id("batch_req_", self._handler.next_seq())
        error = self._item_error(request)
        if error is None and body.get("stream") is True:
            error = (
                400,
                {
                    "message": "Streaming is not supported in batches.",
                    "type": "invalid_request_error",
                    "param": "stream",
                    "code": None,
                },
            )
        if error is None:
            invalid = openai_wire.validate(api, body, headers)
            if invalid is not None:
                error = (invalid.status, json.loads(invalid.body)["error"])
        if error is not None:
            response = {
                "status_code": error[0],
                "request_id": headers["x-request-id"],
                "body": {"error": error[1]},
            }
        else:
            answer = self._handler.answer(request)
            payload = (
                openai_wire.chat_payload(answer)
                if api == "chat"
                else openai_wire.response_payload(answer, body)
            )
            payload["service_tier"] = "batch" if api == "chat" else payload.get("service_tier")
            response = {"status_code": 200, "request_id": headers["x-request-id"], "body": payload}
        return {"id": line_id, "custom_id": custom_id, "response": response, "error": None}

    # -- shared ------------------------------------------------------------------------

    def _poll(self, batch: _Batch, *, creating: bool = False) -> None:
        """Count a status poll; finish the batch once enough polls have been seen."""
        if batch.state == "ended":
            return
        if not creating:
            batch.polls += 1
        if batch.state == "canceling" or batch.polls >= self._delay():
            self._finish(batch)

    def _finish(self, batch: _Batch) -> None:
        canceled = batch.state == "canceling"
        if batch.vendor == "anthropic":
            batch.results = [self._anthropic_item(c, p, canceled) for c, p in batch.items]
        else:
            results = [] if canceled else [self._openai_item(batch, c, b) for c, b in batch.items]
            batch.results = results
            ok = [r for r in results if r["response"]["status_code"] == 200]
            errored = [r for r in results if r["response"]["status_code"] != 200]
            if ok:
                batch.output_file_id = self._store_file("batch_output", "output.jsonl", ok)
            if errored:
                batch.error_file_id = self._store_file("batch_output", "errors.jsonl", errored)
        batch.state = "ended"
        batch.ended_at = time.time()

    def _item_request(
        self,
        vendor: Literal["anthropic", "openai"],
        api: Literal["messages", "chat", "responses"],
        path: str,
        body: dict[str, Any],
        custom_id: str,
    ) -> FakeRequest:
        raw = json.dumps(body).encode()
        return self._handler.make_request(
            vendor,
            api,
            method="POST",
            path=path,
            headers={},
            body=body,
            raw=raw,
            custom_id=custom_id,
        )

    def _item_error(self, request: FakeRequest) -> tuple[int, dict[str, Any]] | None:
        fault = self._handler.scripts.take_fault(request)
        if fault is None or fault.kind == "slow":
            return None
        return _fault_error(self._handler, fault, request)


def _fault_error(
    handler: Handler, fault: Fault, request: FakeRequest
) -> tuple[int, dict[str, Any]]:
    wire = handler.fault_wire(fault, request, {})
    if wire is None or wire.action != "respond" or wire.status == 200:
        # Connection-level faults have no per-item form: the item fails with a 500.
        if request.vendor == "anthropic":
            return 500, {"type": "api_error", "message": "Internal server error"}
        return 500, {
            "message": "The server had an error processing your request.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    payload = json.loads(wire.body)
    return wire.status, payload["error"]


def _sum_usage(usages: list[dict[str, Any]], endpoint: str) -> dict[str, Any]:
    chat = "chat" in endpoint
    input_key, output_key = (
        ("prompt_tokens", "completion_tokens") if chat else ("input_tokens", "output_tokens")
    )
    details_key = "prompt_tokens_details" if chat else "input_tokens_details"
    out_details = "completion_tokens_details" if chat else "output_tokens_details"
    inp = sum(int(u.get(input_key, 0)) for u in usages)
    out = sum(int(u.get(output_key, 0)) for u in usages)
    cached = sum(int((u.get(details_key) or {}).get("cached_tokens", 0)) for u in usages)
    reasoning = sum(int((u.get(out_details) or {}).get("reasoning_tokens", 0)) for u in usages)
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inp + out,
    }


def _file_json(stored: _File) -> dict[str, Any]:
    return {
        "id": stored.id,
        "object": "file",
        "bytes": len(stored.content),
        "created_at": int(stored.created),
        "filename": stored.filename,
        "purpose": stored.purpose,
        "status": "processed",
        "expires_at": None,
        "status_details": None,
    }


def _page(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def _iso(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat().replace("+00:00", "Z")
