"""The OpenAI wire formats: Chat Completions and Responses, plus errors and validation.

Shapes follow what api.openai.com sends, so ``openai`` parses them with its own types
(``ChatCompletion``, ``ChatCompletionChunk``, ``Response``, stream events, errors).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Literal

from ._answer import Answer, Counts, fake_id
from ._cache import Segment
from ._tokens import canonical_json, count_tokens, split_deltas
from ._wire import Frame, Wire, json_wire, sse_frame

if TYPE_CHECKING:
    from ._faults import Fault

__all__ = [
    "CHAT_KEYS",
    "RESPONSES_KEYS",
    "chat_frames",
    "chat_payload",
    "chat_usage",
    "error_wire",
    "fault_wire",
    "max_output",
    "response_frames",
    "response_payload",
    "segments",
    "structured_schema",
    "texts",
    "validate",
]

Api = Literal["chat", "responses"]

# Body keys of ``chat.completions.create`` and ``responses.create`` in openai 3.57;
# tests/testing checks them against the installed SDK.
# fmt: off
CHAT_KEYS = frozenset({
    "audio", "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "max_tokens", "messages", "metadata", "modalities", "model",
    "moderation", "n", "parallel_tool_calls", "prediction", "presence_penalty",
    "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
    "reasoning_effort", "response_format", "safety_identifier", "seed", "service_tier",
    "stop", "store", "stream", "stream_options", "temperature", "tool_choice", "tools",
    "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
})
# fmt: on
# fmt: off
RESPONSES_KEYS = frozenset({
    "access_programs", "background", "background_options", "context_management",
    "conversation", "image", "include", "input", "instructions", "max_output_tokens",
    "max_tool_calls", "metadata", "model", "moderation", "parallel_tool_calls",
    "previous_response_id", "prompt", "prompt_cache_key", "prompt_cache_options",
    "prompt_cache_retention", "reasoning", "safety_identifier", "service_tier", "store",
    "stream", "stream_options", "temperature", "text", "tool_choice", "tools",
    "top_logprobs", "top_p", "truncation", "user",
})
# fmt: on

_FINISH = {
    "end": "stop",
    "tool": "tool_calls",
    "max": "length",
    "stop_sequence": "stop",
    "refusal": "content_filter",
}


def _error(
    status: int,
    message: str,
    headers: dict[str, str],
    *,
    error_type: str = "invalid_request_error",
    code: str | None = None,
    param: str | None = None,
) -> Wire:
    payload = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return json_wire(status, payload, headers)


def error_wire(status: int, message: str, headers: dict[str, str], **fields: Any) -> Wire:
    """An error response in OpenAI's envelope (``type``, ``code``, ``param`` optional)."""
    return _error(status, message, headers, **fields)


def validate(api: Api, body: dict[str, Any], headers: dict[str, str]) -> Wire | None:
    """Return the API's 400 response for an invalid request body, or ``None``."""
    known = CHAT_KEYS if api == "chat" else RESPONSES_KEYS
    for key in body:
        if key not in known:
            if api == "chat":
                return _error(400, f"Unrecognized request argument supplied: {key}", headers)
            return _error(
                400, f"Unknown parameter: '{key}'.", headers, code="unknown_parameter", param=key
            )
    if "model" not in body:
        return _error(400, "you must provide a model parameter", headers)
    if api == "chat" and "messages" not in body:
        return _error(
            400,
            "Missing required parameter: 'messages'.",
            headers,
            code="missing_required_parameter",
            param="messages",
        )
    if api == "chat" and (not isinstance(body["messages"], list) or not body["messages"]):
        return _error(
            400, "'messages' must contain at least one message.", headers, param="messages"
        )
    if api == "responses" and not any(
        k in body for k in ("input", "previous_response_id", "prompt", "conversation")
    ):
        return _error(
            400,
            "Missing required parameter: 'input'.",
            headers,
            code="missing_required_parameter",
            param="input",
        )
    return None


def fault_wire(fault: Fault, api: Api, model: str | None, headers: dict[str, str]) -> Wire:
    """Translate an HTTP-level fault into OpenAI's status, error type and code."""
    kind = fault.kind
    if kind == "rate_limited":
        return _error(
            429,
            f"Rate limit reached for {model} on requests per min (RPM). Please try again later.",
            headers,
            error_type="requests",
            code="rate_limit_exceeded",
        )
    if kind == "overloaded":
        return _error(
            503, "The server is overloaded or not ready yet.", headers, error_type="server_error"
        )
    if kind == "server_error":
        return _error(
            fault.status or 500,
            "The server had an error while processing your request. Sorry about that!",
            headers,
            error_type="server_error",
        )
    if kind == "not_found":
        return _error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            headers,
            code="model_not_found",
        )
    if kind == "unauthorized":
        return _error(401, "Incorrect API key provided.", headers, code="invalid_api_key")
    if kind == "context_too_long":
        if api == "chat":
            message = (
                "This model's maximum context length is 128000 tokens. However, your messages "
                "resulted in 215000 tokens. Please reduce the length of the messages."
            )
            return _error(400, message, headers, code="context_length_exceeded", param="messages")
        message = (
            "Your input exceeds the context window of this model. "
            "Please adjust your input and try again."
        )
        return _error(400, message, headers, code="context_length_exceeded", param="input")
    return _error(400, fault.message or "Invalid request.", headers)


def _part_tokens(part: Any) -> int:
    if isinstance(part, str):
        return count_tokens(part)
    if isinstance(part, dict) and isinstance(part.get("text"), str):
        return count_tokens(part["text"])
    return count_tokens(canonical_json(part))


def segments(api: Api, body: dict[str, Any]) -> list[Segment]:
    """The prompt in cache-prefix order (tools, instructions, messages/input)."""
    out = [
        Segment(b"tool\x00" + canonical_json(t).encode(), count_tokens(canonical_json(t)))
        for t in body.get("tools") or []
    ]
    if api == "responses" and isinstance(body.get("instructions"), str):
        text = body["instructions"]
        out.append(Segment(b"instructions\x00" + text.encode(), count_tokens(text)))
    items = body.get("messages") if api == "chat" else body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    for i, item in enumerate(items or []):
        if not isinstance(item, dict):
            continue
        prefix = f"m{i}:{item.get('role', item.get('type'))}\x00".encode()
        content = item.get("content")
        if "content" in item:
            parts = [content] if isinstance(content, str) else list(content or [])
            out.extend(Segment(prefix + canonical_json(p).encode(), _part_tokens(p)) for p in parts)
        rest = {k: v for k, v in item.items() if k not in ("content", "role", "type")}
        if rest or "content" not in item:
            out.append(Segment(prefix + canonical_json(rest).encode(), _part_tokens(rest)))
    return out


def _item_texts(item: Any) -> list[str]:
    if isinstance(item, str):
        return [item]
    if not isinstance(item, dict):
        return []
    content = item.get("content")
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
    if isinstance(item.get("output"), str):
        return [item["output"]]
    return []


def texts(api: Api, body: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Return (text of the last user message, every text segment in the request)."""
    found: list[str] = []
    if api == "responses" and isinstance(body.get("instructions"), str):
        found.append(body["instructions"])
    items = body.get("messages") if api == "chat" else body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    last_user = ""
    for item in items or []:
        item_texts = _item_texts(item)
        found.extend(item_texts)
        if isinstance(item, dict) and item.get("role") == "user":
            last_user = "".join(item_texts)
    return last_user, tuple(found)


def max_output(api: Api, body: dict[str, Any]) -> int | None:
    """The request's output-token limit."""
    keys = ("max_completion_tokens", "max_tokens") if api == "chat" else ("max_output_tokens",)
    for key in keys:
        if isinstance(body.get(key), int):
            return int(body[key])
    return None


def structured_schema(api: Api, body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of a structured-output request, if any (``{}`` for json_object)."""
    if api == "chat":
        fmt = body.get("response_format")
        inner = fmt.get("json_schema") if isinstance(fmt, dict) else None
        schema = inner.get("schema") if isinstance(inner, dict) else None
    else:
        text = body.get("text")
        fmt = text.get("format") if isinstance(text, dict) else None
        schema = fmt.get("schema") if isinstance(fmt, dict) else None
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_object":
        return {"type": "object"}
    if fmt.get("type") == "json_schema":
        return schema if isinstance(schema, dict) else {"type": "object"}
    return None


# -- Chat Completions ------------------------------------------------------------------


def chat_usage(counts: Counts) -> dict[str, Any]:
    """``CompletionUsage``: ``prompt_tokens`` includes cached tokens."""
    return {
        "prompt_tokens": counts.input_total,
        "completion_tokens": counts.output,
        "total_tokens": counts.input_total + counts.output,
        "prompt_tokens_details": {
            "cached_tokens": counts.cache_read,
            "cache_write_tokens": counts.write_5m + counts.write_1h,
            "audio_tokens": 0,
        },
        "completion_tokens_details": {
            "reasoning_tokens": counts.reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_payload(answer: Answer) -> dict[str, Any]:
    """A complete ``ChatCompletion`` JSON object."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": answer.text if (answer.text or not answer.tool_calls) else None,
        "refusal": None,
        "annotations": [],
    }
    if answer.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in answer.tool_calls
        ]
    return {
        "id": fake_id("chatcmpl-", answer.seq),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": answer.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _FINISH[answer.stop],
            }
        ],
        "usage": chat_usage(answer.counts),
        "service_tier": "default",
        "system_fingerprint": None,
    }


def chat_frames(answer: Answer, *, include_usage: bool) -> list[Frame]:
    """The SSE chunk sequence of a streamed chat completion, ending in ``[DONE]``."""
    base = {
        "id": fake_id("chatcmpl-", answer.seq),
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": answer.model,
        "service_tier": "default",
        "system_fingerprint": None,
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, *, is_delta: bool = False) -> Frame:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        extra = {"usage": None} if include_usage else {}
        return sse_frame({**base, "choices": [choice], **extra}, text_delta=is_delta)

    frames = [chunk({"role": "assistant", "content": "", "refusal": None})]
    frames.extend(chunk({"content": piece}, is_delta=True) for piece in split_deltas(answer.text))
    for index, call in enumerate(answer.tool_calls):
        head = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        frames.append(chunk({"tool_calls": [head]}))
        arguments = json.dumps(call.arguments)
        for cut in range(0, len(arguments), 16):
            piece = {"index": index, "function": {"arguments": arguments[cut : cut + 16]}}
            frames.append(chunk({"tool_calls": [piece]}))
    frames.append(chunk({}, _FINISH[answer.stop]))
    if include_usage:
        frames.append(sse_frame({**base, "choices": [], "usage": chat_usage(answer.counts)}))
    frames.append(Frame(b"data: [DONE]\n\n"))
    return frames


# -- Responses ---------------------------------------------------------------------------


def _responses_usage(counts: Counts) -> dict[str, Any]:
    return {
        "input_tokens": counts.input_total,
        "input_tokens_details": {
            "cached_tokens": counts.cache_read,
            "cache_write_tokens": counts.write_5m + counts.write_1h,
            # write_5m holds the default and 30-minute writes, write_1h the 12-hour ones.
            "cache_write_tokens_details": {
                "ttl_30m_tokens": counts.write_5m,
                "ttl_12h_tokens": counts.write_1h,
            },
        },
        "output_tokens": counts.output,
        "output_tokens_details": {"reasoning_tokens": counts.reasoning},
        "total_tokens": counts.input_total + counts.output,
    }


def _message_item(answer: Answer, *, done: bool = True) -> dict[str, Any]:
    return {
        "type": "message",
        "id": fake_id("msg_", answer.seq),
        "status": "completed" if done else "in_progress",
        "role": "assistant",
        "content": [_text_part(answer.text)] if done else [],
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _call_item(answer: Answer, index: int, *, done: bool = True) -> dict[str, Any]:
    call = answer.tool_calls[index]
    return {
        "type": "function_call",
        "id": fake_id("fc_", answer.seq, f"_{index}"),
        "call_id": call.id,
        "name": call.name,
        "arguments": json.dumps(call.arguments) if done else "",
        "status": "completed" if done else "in_progress",
    }


def response_payload(
    answer: Answer, body: dict[str, Any], *, status: str | None = None
) -> dict[str, Any]:
    """A complete ``Response`` JSON object (``status`` overrides for stream snapshots)."""
    output: list[dict[str, Any]] = []
    if answer.text or not answer.tool_calls:
        output.append(_message_item(answer))
    output.extend(_call_item(answer, i) for i in range(len(answer.tool_calls)))
    final = "incomplete" if answer.stop == "max" else "completed"
    in_progress = status == "in_progress"
    return {
        "id": fake_id("resp_", answer.seq),
        "object": "response",
        "created_at": float(int(time.time())),
        "status": status or final,
        "error": None,
        "incomplete_details": (
            {"reason": "max_output_tokens"} if final == "incomplete" and not in_progress else None
        ),
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": answer.model,
        "output": [] if in_progress else output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text", {"format": {"type": "text"}}),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": None if in_progress else _responses_usage(answer.counts),
        "user": None,
        "metadata": body.get("metadata", {}),
    }


def response_frames(answer: Answer, body: dict[str, Any]) -> list[Frame]:
    """The SSE event sequence of a streamed ``Response``."""
    frames: list[Frame] = []

    def emit(kind: str, *, is_delta: bool = False, **fields: Any) -> None:
        data = {"type": kind, "sequence_number": len(frames), **fields}
        frames.append(sse_frame(data, kind, text_delta=is_delta))

    snapshot = response_payload(answer, body, status="in_progress")
    emit("response.created", response=snapshot)
    emit("response.in_progress", response=snapshot)
    index = 0
    if answer.text or not answer.tool_calls:
        item_id = fake_id("msg_", answer.seq)
        emit(
            "response.output_item.added", output_index=index, item=_message_item(answer, done=False)
        )
        where: dict[str, Any] = {"item_id": item_id, "output_index": index, "content_index": 0}
        emit("response.content_part.added", part=_text_part(""), **where)
        for piece in split_deltas(answer.text):
            emit("response.output_text.delta", is_delta=True, delta=piece, logprobs=[], **where)
        emit("response.output_text.done", text=answer.text, logprobs=[], **where)
        emit("response.content_part.done", part=_text_part(answer.text), **where)
        emit("response.output_item.done", output_index=index, item=_message_item(answer))
        index += 1
    for i in range(len(answer.tool_calls)):
        item = _call_item(answer, i)
        emit(
            "response.output_item.added", output_index=index, item=_call_item(answer, i, done=False)
        )
        arguments = item["arguments"]
        for cut in range(0, len(arguments), 16):
            emit(
                "response.function_call_arguments.delta",
                item_id=item["id"],
                output_index=index,
                delta=arguments[cut : cut + 16],
            )
        emit(
            "response.function_call_arguments.done",
            item_id=item["id"],
            output_index=index,
            name=item["name"],
            arguments=arguments,
        )
        emit("response.output_item.done", output_index=index, item=item)
        index += 1
    final = response_payload(answer, body)
    emit(
        "response.incomplete" if final["status"] == "incomplete" else "response.completed",
        response=final,
    )
    return frames
