"""The Anthropic Messages wire format: request validation, prompt segments, replies, errors.

Shapes follow what api.anthropic.com sends, so ``anthropic`` parses them with its own
types (``Message``, ``RawMessageStreamEvent``, ``APIStatusError`` subclasses).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ._answer import Answer, Counts, fake_id
from ._cache import Segment
from ._tokens import canonical_json, count_tokens, split_deltas
from ._wire import Frame, Wire, json_wire, sse_frame

if TYPE_CHECKING:
    from ._faults import Fault

__all__ = [
    "KNOWN_KEYS",
    "error_wire",
    "fault_wire",
    "max_output",
    "message_payload",
    "segments",
    "stream_frames",
    "structured_schema",
    "texts",
    "usage_payload",
    "validate",
]

# Body keys of ``messages.create`` in anthropic 2.14 (``user_profile_id`` and
# ``workspace_id`` travel as headers). tests/testing checks this against the SDK.
KNOWN_KEYS = frozenset(
    {
        "cache_control",
        "container",
        "diagnostics",
        "inference_geo",
        "max_tokens",
        "messages",
        "metadata",
        "model",
        "output_config",
        "service_tier",
        "speed",
        "stop_sequences",
        "stream",
        "system",
        "thinking",
        "tool_choice",
        "tools",
    }
)
# ``client.beta.messages.create`` (``?beta=true``) accepts more; ``betas`` is a header.
BETA_KNOWN_KEYS = KNOWN_KEYS | {
    "billing_policy", "compaction", "context_management", "fallback_credit_token",
    "fallbacks", "mcp_servers", "thread",
}  # fmt: skip

_STOP = {
    "end": "end_turn",
    "tool": "tool_use",
    "max": "max_tokens",
    "stop_sequence": "stop_sequence",
    "refusal": "refusal",
}


def validate(body: dict[str, Any], *, beta: bool = False) -> str | None:
    """Return the API's error message for an invalid request body, or ``None``."""
    known = BETA_KNOWN_KEYS if beta else KNOWN_KEYS
    for key in body:
        if key not in known:
            return f"{key}: Extra inputs are not permitted"
    for key in ("model", "messages", "max_tokens"):
        if key not in body:
            return f"{key}: Field required"
    if not isinstance(body["model"], str):
        return "model: Input should be a valid string"
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 0:
        return "max_tokens: Input should be a valid integer"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            return f"messages.{i}.role: Input should be 'user' or 'assistant'"
        if "content" not in message:
            return f"messages.{i}.content: Field required"
    return None


def error_wire(status: int, error_type: str, message: str, headers: dict[str, str]) -> Wire:
    """An error response in Anthropic's envelope."""
    payload: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if "request-id" in headers:
        payload["request_id"] = headers["request-id"]
    return json_wire(status, payload, headers)


def fault_wire(fault: Fault, model: str | None, headers: dict[str, str]) -> Wire:
    """Translate an HTTP-level fault into Anthropic's status, error type and message."""
    kind = fault.kind
    if kind == "rate_limited":
        return error_wire(
            429,
            "rate_limit_error",
            "This request would exceed the rate limit for your organization. "
            "Please reduce the prompt length or the maximum tokens requested, or try again later.",
            headers,
        )
    if kind == "overloaded":
        return error_wire(529, "overloaded_error", "Overloaded", headers)
    if kind == "server_error":
        status = fault.status or 500
        error_type = "timeout_error" if status == 504 else "api_error"
        return error_wire(status, error_type, "Internal server error", headers)
    if kind == "not_found":
        return error_wire(404, "not_found_error", f"model: {model}", headers)
    if kind == "unauthorized":
        return error_wire(401, "authentication_error", "invalid x-api-key", headers)
    if kind == "context_too_long":
        return error_wire(
            400,
            "invalid_request_error",
            "prompt is too long: 215000 tokens > 200000 maximum",
            headers,
        )
    return error_wire(400, "invalid_request_error", fault.message or "Invalid request.", headers)


def _strip(block: Any) -> Any:
    if isinstance(block, dict) and "cache_control" in block:
        return {k: v for k, v in block.items() if k != "cache_control"}
    return block


def _ttl(block: Any) -> float | None:
    marker = block.get("cache_control") if isinstance(block, dict) else None
    if not isinstance(marker, dict):
        return None
    return 3600.0 if marker.get("ttl") == "1h" else 300.0


def _block_tokens(block: Any) -> int:
    if isinstance(block, str):
        return count_tokens(block)
    if isinstance(block, dict) and block.get("type") == "text":
        return count_tokens(str(block.get("text", "")))
    return count_tokens(canonical_json(_strip(block)))


def segments(body: dict[str, Any]) -> list[Segment]:
    """The prompt in cache-prefix order (tools, system, messages), one segment per block."""
    out: list[Segment] = []
    for tool in body.get("tools") or []:
        key = b"tool\x00" + canonical_json(_strip(tool)).encode()
        out.append(Segment(key, count_tokens(canonical_json(_strip(tool))), _ttl(tool)))
    system = body.get("system")
    system_blocks = [system] if isinstance(system, str) else list(system or [])
    for block in system_blocks:
        key = b"system\x00" + canonical_json(_strip(block)).encode()
        out.append(Segment(key, _block_tokens(block), _ttl(block)))
    for i, message in enumerate(body.get("messages") or []):
        content = message.get("content")
        blocks = [content] if isinstance(content, str) else list(content or [])
        for block in blocks:
            key = (
                f"m{i}:{message.get('role')}\x00".encode() + canonical_json(_strip(block)).encode()
            )
            out.append(Segment(key, _block_tokens(block), _ttl(block)))
    top = body.get("cache_control")
    if isinstance(top, dict) and out and out[-1].ttl is None:
        # Top-level cache_control marks the last cacheable block.
        last = out[-1]
        out[-1] = Segment(last.key, last.tokens, 3600.0 if top.get("ttl") == "1h" else 300.0)
    return out


def _block_texts(block: Any) -> list[str]:
    if isinstance(block, str):
        return [block]
    if not isinstance(block, dict):
        return []
    if block.get("type") == "text":
        return [str(block.get("text", ""))]
    if block.get("type") == "tool_result":
        content = block.get("content")
        inner = [content] if isinstance(content, str) else list(content or [])
        return [t for b in inner for t in _block_texts(b)]
    return []


def texts(body: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Return (text of the last user message, every text segment in the request)."""
    all_texts: list[str] = []
    system = body.get("system")
    for block in [system] if isinstance(system, str) else list(system or []):
        all_texts.extend(_block_texts(block))
    last_user = ""
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks = [content] if isinstance(content, str) else list(content or [])
        found = [t for b in blocks for t in _block_texts(b)]
        all_texts.extend(found)
        if message.get("role") == "user":
            last_user = "".join(found)
    return last_user, tuple(all_texts)


def max_output(body: dict[str, Any]) -> int | None:
    """The request's output-token limit."""
    value = body.get("max_tokens")
    return value if isinstance(value, int) else None


def structured_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of a structured-output request (``output_config.format``), if any."""
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else None
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        return schema if isinstance(schema, dict) else {}
    return None


def usage_payload(counts: Counts, *, service_tier: str = "standard") -> dict[str, Any]:
    """Anthropic's ``usage`` object: ``input_tokens`` is the uncached remainder."""
    return {
        "input_tokens": counts.uncached,
        "output_tokens": counts.output,
        "cache_creation_input_tokens": counts.write_5m + counts.write_1h,
        "cache_read_input_tokens": counts.cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": counts.write_5m,
            "ephemeral_1h_input_tokens": counts.write_1h,
        },
        "service_tier": service_tier,
    }


def _content(answer: Answer) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if answer.text or not answer.tool_calls:
        blocks.append({"type": "text", "text": answer.text})
    blocks.extend(
        {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
        for call in answer.tool_calls
    )
    return blocks


def message_payload(answer: Answer, *, service_tier: str = "standard") -> dict[str, Any]:
    """A complete ``Message`` JSON object."""
    return {
        "id": fake_id("msg_", answer.seq),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": _content(answer),
        "stop_reason": _STOP[answer.stop],
        "stop_sequence": None,
        "usage": usage_payload(answer.counts, service_tier=service_tier),
    }


def stream_frames(answer: Answer) -> list[Frame]:
    """The SSE event sequence of a streamed ``Message``."""
    start = message_payload(answer)
    start["content"] = []
    start["stop_reason"] = None
    start["usage"] = {**start["usage"], "output_tokens": 1}
    frames = [sse_frame({"type": "message_start", "message": start}, "message_start")]
    index = 0
    if answer.text or not answer.tool_calls:
        frames.append(
            _event("content_block_start", index=index, content_block={"type": "text", "text": ""})
        )
        frames.append(sse_frame({"type": "ping"}, "ping"))
        for piece in split_deltas(answer.text):
            delta = {"type": "text_delta", "text": piece}
            frames.append(_event("content_block_delta", index=index, delta=delta, is_delta=True))
        frames.append(_event("content_block_stop", index=index))
        index += 1
    for call in answer.tool_calls:
        block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
        frames.append(_event("content_block_start", index=index, content_block=block))
        arguments = json.dumps(call.arguments)
        for cut in range(0, len(arguments), 16):
            delta = {"type": "input_json_delta", "partial_json": arguments[cut : cut + 16]}
            frames.append(_event("content_block_delta", index=index, delta=delta))
        frames.append(_event("content_block_stop", index=index))
        index += 1
    usage = usage_payload(answer.counts)
    del usage["cache_creation"], usage["service_tier"]
    frames.append(
        _event(
            "message_delta",
            delta={"stop_reason": _STOP[answer.stop], "stop_sequence": None},
            usage=usage,
        )
    )
    frames.append(_event("message_stop"))
    return frames


def _event(kind: str, *, is_delta: bool = False, **fields: Any) -> Frame:
    return sse_frame({"type": kind, **fields}, kind, text_delta=is_delta)
