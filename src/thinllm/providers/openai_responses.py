"""The OpenAI Responses wire format.

Order on the wire: a ``system`` input message (system text, then context documents as
separate ``input_text`` parts), few-shot examples, then the conversation. As for
Chat, a stable ``prompt_cache_key`` derived from the static prefix is sent.
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
from .openai_chat import load_arguments

__all__ = ["OpenAIResponses", "usage_of"]

_MANAGED = frozenset(
    ("model", "input", "instructions", "tools", "stream", "text", "safety_identifier")
)
_RENAME = {"max_tokens": "max_output_tokens"}


@cache
def _accepted() -> frozenset[str]:
    """Keyword arguments the SDK's create() takes (read once, lazily)."""
    from openai.resources.responses import Responses

    return parameters_of(Responses.create)


def _tool_choice(value: Any) -> Any:
    if value == "any":
        return "required"
    if isinstance(value, Mapping) and "name" in value and "type" not in value:
        return {"type": "function", "name": value["name"]}
    return value


def usage_of(u: Any) -> Usage:
    """Normalize Responses usage: ``input_tokens`` already includes cached tokens."""
    return openai_usage(u, "input_tokens_details", "input_tokens", "output_tokens")


_CONVERT = {"tool_choice": _tool_choice}


class OpenAIResponses:
    """Renders and parses ``client.responses.create``."""

    api = "responses"

    def method(self, client: Any, /) -> Callable[..., Any]:
        return client.responses.create  # type: ignore[no-any-return]

    def render(
        self,
        prompt: Prompt,
        model: str,
        options: Mapping[str, Any],
        output: OutputSpec | None,
        user_id: str | None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": model}
        items: list[dict[str, Any]] = []
        system = ([prompt.system] if prompt.system else []) + list(prompt.context)
        if len(system) == 1:
            items.append({"role": "system", "content": system[0]})
        elif system:
            parts = [{"type": "input_text", "text": s} for s in system]
            items.append({"role": "system", "content": parts})
        items.extend(_items(prompt.examples))
        items.extend(_items(prompt.messages))
        kwargs["input"] = items
        if prompt.tools:
            kwargs["tools"] = [
                {
                    "type": "function",
                    "name": t.name,
                    "description": t.description,
                    "parameters": dict(t.parameters),
                    "strict": False,
                }
                for t in prompt.tools
            ]
        if prompt.cache is not False and (system or prompt.examples or prompt.tools):
            kwargs["prompt_cache_key"] = prompt.static_hash()
        if user_id is not None:
            kwargs["safety_identifier"] = user_id
        if output is not None:
            kwargs["text"] = {
                "format": {
                    "type": "json_schema",
                    "name": output.name,
                    "schema": output.strict_schema(),
                    "strict": True,
                }
            }
        opts = dict(options)
        if "max_tokens" in opts and opts["max_tokens"] is not None:
            opts["max_tokens"] = check_max_tokens(opts["max_tokens"])
        apply_options(
            kwargs,
            opts,
            rename=_RENAME,
            managed=_MANAGED,
            accepted=_accepted(),
            api="OpenAI Responses",
            convert=_CONVERT,
        )
        return kwargs

    def stream_kwargs(self) -> dict[str, Any]:
        return {"stream": True}

    def parse(self, raw: Any, /) -> Parsed:
        calls = [
            ToolCall(item.call_id, item.name, load_arguments(item.arguments))
            for item in (raw.output or [])
            if getattr(item, "type", None) == "function_call"
        ]
        finish = getattr(raw, "status", None)
        incomplete = getattr(raw, "incomplete_details", None)
        if incomplete is not None and getattr(incomplete, "reason", None):
            finish = incomplete.reason
        # Positional: keyword arguments to the dataclass cost twice as much per call.
        # Parsed(text, usage, tool_calls, finish_reason, response_id, model)
        return Parsed(raw.output_text or "", usage_of(raw.usage), calls, finish, raw.id, raw.model)

    def stream_parser(self) -> _StreamParser:
        return _StreamParser(self)


def _items(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        parts = m.parts
        if len(parts) == 1 and type(parts[0]) is Text and m.role != "tool":
            # One text block, the usual turn: what the general path below builds for it,
            # without its list comprehension and second loop.
            out.append({"role": m.role, "content": parts[0].text})
            continue
        texts = [p.text for p in m.parts if isinstance(p, Text)]
        if texts and m.role != "tool":
            content: Any = texts[0] if len(texts) == 1 else None
            if content is None:
                kind = "output_text" if m.role == "assistant" else "input_text"
                content = [{"type": kind, "text": t} for t in texts]
            out.append({"role": m.role, "content": content})
        for p in m.parts:
            if isinstance(p, ToolCall):
                out.append(
                    {
                        "type": "function_call",
                        "call_id": p.id,
                        "name": p.name,
                        "arguments": json.dumps(dict(p.arguments)),
                    }
                )
            elif isinstance(p, ToolResult):
                out.append(
                    {"type": "function_call_output", "call_id": p.tool_call_id, "output": p.content}
                )
    return out


class _StreamParser:
    """Accumulates Responses stream events; the final ``response.completed`` has it all."""

    def __init__(self, adapter: OpenAIResponses) -> None:
        self._adapter = adapter
        self._text: list[str] = []
        self._final: Any = None
        self._id: str | None = None
        self._model: str | None = None

    def feed(self, event: Any, /) -> str | None:
        kind = getattr(event, "type", None)
        if kind == "response.output_text.delta":
            self._text.append(event.delta)
            return str(event.delta)
        if kind in ("response.completed", "response.incomplete"):
            self._final = event.response
        elif kind == "response.created":
            self._id = event.response.id
            self._model = event.response.model
        return None

    def result(self) -> Parsed:
        if self._final is not None:
            return self._adapter.parse(self._final)
        return Parsed(
            text="".join(self._text), usage=Usage(), response_id=self._id, model=self._model
        )
