"""The OpenAI Chat Completions wire format (also Azure OpenAI and compatible servers).

Order on the wire: one ``system`` message (system text, then context documents as
separate text parts), few-shot examples, then the conversation; ``tools`` beside them.
OpenAI caches prefixes automatically; a stable ``prompt_cache_key`` derived from the
static prefix keeps calls sharing a prefix on the same cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from .._prompt import Message, Prompt, Text, ToolCall, ToolResult
from .._reply import Usage
from ._base import (
    OutputSpec,
    Parsed,
    apply_options,
    check_max_tokens,
    openai_usage,
    parameters_of,
)

__all__ = ["OpenAIChat", "load_arguments", "usage_of"]

_MANAGED = frozenset(
    (
        "model",
        "messages",
        "tools",
        "stream",
        "response_format",
        "safety_identifier",
        "functions",
    )
)
_RENAME = {"max_tokens": "max_completion_tokens"}


@cache
def _accepted() -> frozenset[str]:
    """Keyword arguments the SDK's create() takes (read once, lazily)."""
    from openai.resources.chat.completions import Completions

    return parameters_of(Completions.create)


def _tool_choice(value: Any) -> Any:
    if value == "any":
        return "required"
    if isinstance(value, Mapping) and "name" in value and "type" not in value:
        return {"type": "function", "function": {"name": value["name"]}}
    return value


def load_arguments(raw: str | None) -> dict[str, Any]:
    """Tool-call arguments as a dict; unparsable JSON is kept under ``_unparsed``."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return {"_unparsed": raw}
    return value if isinstance(value, dict) else {"_value": value}


def usage_of(u: Any) -> Usage:
    """Normalize Chat usage: ``prompt_tokens`` already includes cached tokens."""
    return openai_usage(u, "prompt_tokens_details", "prompt_tokens", "completion_tokens")


_CONVERT = {"tool_choice": _tool_choice}


class OpenAIChat:
    """Renders and parses ``client.chat.completions.create``."""

    api = "chat"

    def method(self, client: Any, /) -> Callable[..., Any]:
        return client.chat.completions.create  # type: ignore[no-any-return]

    def render(
        self,
        prompt: Prompt,
        model: str,
        options: Mapping[str, Any],
        output: OutputSpec | None,
        user_id: str | None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": model}
        messages: list[dict[str, Any]] = []
        system = ([prompt.system] if prompt.system else []) + list(prompt.context)
        if len(system) == 1:
            messages.append({"role": "system", "content": system[0]})
        elif system:
            parts = [{"type": "text", "text": s} for s in system]
            messages.append({"role": "system", "content": parts})
        if prompt.examples:
            messages.extend(_messages(prompt.examples))
        messages.extend(_messages(prompt.messages))
        kwargs["messages"] = messages
        if prompt.tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": dict(t.parameters),
                    },
                }
                for t in prompt.tools
            ]
        if prompt.cache is not False and (system or prompt.examples or prompt.tools):
            kwargs["prompt_cache_key"] = prompt.static_hash()
        if user_id is not None:
            kwargs["safety_identifier"] = user_id
        if output is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": output.name,
                    "schema": output.strict_schema(),
                    "strict": True,
                },
            }
        if options:
            opts = dict(options)
            if opts.get("max_tokens") is not None:
                opts["max_tokens"] = check_max_tokens(opts["max_tokens"])
            apply_options(
                kwargs,
                opts,
                rename=_RENAME,
                managed=_MANAGED,
                accepted=_accepted(),
                api="OpenAI Chat Completions",
                convert=_CONVERT,
            )
        return kwargs

    def stream_kwargs(self) -> dict[str, Any]:
        return {"stream": True, "stream_options": {"include_usage": True}}

    def parse(self, raw: Any, /) -> Parsed:
        choice = raw.choices[0] if raw.choices else None
        message = choice.message if choice else None
        calls = [
            ToolCall(tc.id, tc.function.name, load_arguments(tc.function.arguments))
            for tc in (getattr(message, "tool_calls", None) or [])
            if getattr(tc, "function", None) is not None
        ]
        # Positional: keyword arguments to the dataclass cost twice as much per call.
        # Parsed(text, usage, tool_calls, finish_reason, response_id, model)
        return Parsed(
            (message.content or "") if message else "",
            usage_of(raw.usage),
            calls,
            choice.finish_reason if choice else None,
            raw.id,
            raw.model,
        )

    def stream_parser(self) -> _StreamParser:
        return _StreamParser()


def _messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        parts = m.parts
        if len(parts) == 1 and type(parts[0]) is Text and m.role != "tool":
            # One text block, the usual turn: what the general path below builds for it,
            # without its two list comprehensions.
            out.append({"role": m.role, "content": parts[0].text})
            continue
        texts = [p.text for p in m.parts if isinstance(p, Text)]
        if m.role == "tool":
            out.extend(
                {"role": "tool", "tool_call_id": p.tool_call_id, "content": p.content}
                for p in m.parts
                if isinstance(p, ToolResult)
            )
            continue
        content: Any = texts[0] if len(texts) == 1 else [{"type": "text", "text": t} for t in texts]
        msg: dict[str, Any] = {"role": m.role, "content": content if texts else None}
        calls = [p for p in m.parts if isinstance(p, ToolCall)]
        if calls:
            msg["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(dict(c.arguments))},
                }
                for c in calls
            ]
        out.append(msg)
    return out


class _StreamParser:
    """Accumulates Chat Completions chunks."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._tools: dict[int, dict[str, Any]] = {}
        self._usage: Any = None
        self._finish: str | None = None
        self._id: str | None = None
        self._model: str | None = None

    def feed(self, chunk: Any, /) -> str | None:
        self._id = self._id or getattr(chunk, "id", None)
        self._model = self._model or getattr(chunk, "model", None)
        if getattr(chunk, "usage", None) is not None:
            self._usage = chunk.usage
        if not chunk.choices:
            return None
        choice = chunk.choices[0]
        if choice.finish_reason:
            self._finish = choice.finish_reason
        delta = choice.delta
        for tc in getattr(delta, "tool_calls", None) or []:
            slot = self._tools.setdefault(tc.index, {"id": "", "name": "", "args": []})
            if tc.id:
                slot["id"] = tc.id
            if tc.function is not None:
                if tc.function.name:
                    slot["name"] = tc.function.name
                if tc.function.arguments:
                    slot["args"].append(tc.function.arguments)
        if delta.content:
            self._text.append(delta.content)
            return str(delta.content)
        return None

    def result(self) -> Parsed:
        calls = [
            ToolCall(t["id"], t["name"], load_arguments("".join(t["args"])))
            for _, t in sorted(self._tools.items())
        ]
        return Parsed(
            text="".join(self._text),
            usage=usage_of(self._usage),
            tool_calls=calls,
            finish_reason=self._finish,
            response_id=self._id,
            model=self._model,
        )
