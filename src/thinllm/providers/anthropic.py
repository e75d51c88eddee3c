"""The Anthropic Messages wire format (also used by Bedrock and Vertex clients).

Order on the wire: ``tools`` -> ``system`` (system text, then context documents) ->
``messages`` (few-shot examples, then the conversation). One ``cache_control``
breakpoint goes on the last static block when the static prefix is long enough to be
cached (the vendor ignores shorter ones), so every call with the same static parts
reads the same cache entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any

from .._prompt import Message, Prompt, Text, ToolCall, ToolResult
from .._reply import Usage, new_usage
from ._base import OutputSpec, Parsed, apply_options, check_max_tokens, parameters_of

__all__ = ["AnthropicMessages", "min_cache_tokens"]

_CHARS_PER_TOKEN = 3.0  # deliberately low: over-estimating tokens only costs an unused marker

_MANAGED = frozenset(
    ("model", "messages", "system", "tools", "stream", "metadata", "output_config")
)
_RENAME = {"stop": "stop_sequences"}


@lru_cache(maxsize=256)
def min_cache_tokens(model: str) -> int:
    """The smallest prefix (in tokens) Anthropic caches for ``model`` (one table: cache lint's)."""
    from .._cachelint import min_cacheable_tokens

    return min_cacheable_tokens(model)[0]


@cache
def _accepted() -> frozenset[str]:
    """Keyword arguments the SDK's create() takes (read once, lazily)."""
    from anthropic.resources.messages import Messages

    return parameters_of(Messages.create)


def _tool_choice(value: Any) -> Any:
    if value in ("auto", "any", "none"):
        return {"type": value}
    if value == "required":
        return {"type": "any"}
    if isinstance(value, Mapping) and "name" in value and "type" not in value:
        return {"type": "tool", "name": value["name"]}
    return value


_CONVERT = {"tool_choice": _tool_choice}


class AnthropicMessages:
    """Renders and parses ``client.messages.create``."""

    api = "messages"

    def method(self, client: Any, /) -> Callable[..., Any]:
        return client.messages.create  # type: ignore[no-any-return]

    def render(
        self,
        prompt: Prompt,
        model: str,
        options: Mapping[str, Any],
        output: OutputSpec | None,
        user_id: str | None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": model}
        opts = dict(options)
        max_tokens = opts.pop("max_tokens", None)
        if max_tokens is None:
            from ..errors import ConfigurationError

            raise ConfigurationError(
                "Anthropic requires max_tokens: pass max_tokens=... to the call or set it in "
                "Route(..., defaults={'max_tokens': ...})"
            )
        # check_max_tokens() only when the common valid int is not what was given.
        ok = type(max_tokens) is int and max_tokens > 0
        kwargs["max_tokens"] = max_tokens if ok else check_max_tokens(max_tokens)

        # The ``if``s skip building empty pieces: this runs once per route per call.
        tools: list[dict[str, Any]] = []
        if prompt.tools:
            tools = [
                {"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
                for t in prompt.tools
            ]
        system: list[dict[str, Any]] = []
        if prompt.system:
            system.append({"type": "text", "text": prompt.system})
        if prompt.context:
            system.extend({"type": "text", "text": doc} for doc in prompt.context)
        examples = _messages(prompt.examples) if prompt.examples else []
        conversation = _messages(prompt.messages)

        if _wants_cache(prompt, model):
            marker: dict[str, Any] = {"type": "ephemeral"}
            if prompt.cache_ttl == "1h":
                marker["ttl"] = "1h"
            if examples:
                examples[-1]["content"][-1]["cache_control"] = marker
            elif system:
                system[-1]["cache_control"] = marker
            elif tools:
                tools[-1]["cache_control"] = marker

        if tools:
            kwargs["tools"] = tools
        if system:
            kwargs["system"] = system
        turns = examples + conversation if examples else conversation
        kwargs["messages"] = _merge_roles(turns) if len(turns) > 1 else turns
        if user_id is not None:
            kwargs["metadata"] = {"user_id": user_id}
        if output is not None:
            kwargs["output_config"] = {"format": {"type": "json_schema", "schema": _schema(output)}}
        if opts:
            apply_options(
                kwargs,
                opts,
                rename=_RENAME,
                managed=_MANAGED,
                accepted=_accepted(),
                api="Anthropic Messages",
                convert=_CONVERT,
            )
        return kwargs

    def stream_kwargs(self) -> dict[str, Any]:
        return {"stream": True}

    def parse(self, raw: Any, /) -> Parsed:
        text_parts: list[str] = []
        calls: list[ToolCall] = []
        for block in raw.content:
            kind = getattr(block, "type", None)
            if kind == "text":
                text_parts.append(block.text)
            elif kind == "tool_use":
                calls.append(ToolCall(block.id, block.name, dict(block.input or {})))
        usage = raw.usage
        # Positional: keyword arguments to the dataclass cost twice as much per call.
        # Parsed(text, usage, tool_calls, finish_reason, response_id, model, region)
        return Parsed(
            "".join(text_parts),
            usage_of(usage),
            calls,
            raw.stop_reason,
            raw.id,
            raw.model,
            getattr(usage, "inference_geo", None),
        )

    def stream_parser(self) -> _StreamParser:
        return _StreamParser()


def usage_of(u: Any) -> Usage:
    """Normalize Anthropic usage: ``input_tokens`` excludes cache reads and writes."""
    if u is None:
        return Usage()
    read = getattr(u, "cache_read_input_tokens", None) or 0
    write = getattr(u, "cache_creation_input_tokens", None) or 0
    breakdown = getattr(u, "cache_creation", None)
    write_1h = (getattr(breakdown, "ephemeral_1h_input_tokens", None) or 0) if breakdown else 0
    uncached = getattr(u, "input_tokens", None) or 0
    return new_usage(
        uncached + read + write, getattr(u, "output_tokens", None) or 0, read, write, write_1h
    )


def _wants_cache(prompt: Prompt, model: str) -> bool:
    if prompt.cache is False:
        return False
    if prompt.cache is True:
        return True
    static = prompt.static_chars()
    return static > 0 and static / _CHARS_PER_TOKEN >= min_cache_tokens(model)


def _schema(output: OutputSpec) -> dict[str, Any]:
    try:
        from anthropic.lib._parse._transform import transform_schema
    except ImportError:  # pragma: no cover - older SDKs
        return dict(output.schema)
    return dict(transform_schema(dict(output.schema)))


def _messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        blocks: list[dict[str, Any]] = []
        for p in m.parts:
            if isinstance(p, Text):
                blocks.append({"type": "text", "text": p.text})
            elif isinstance(p, ToolCall):
                blocks.append(
                    {"type": "tool_use", "id": p.id, "name": p.name, "input": dict(p.arguments)}
                )
            elif isinstance(p, ToolResult):
                block: dict[str, Any] = {
                    "type": "tool_result",
                    "tool_use_id": p.tool_call_id,
                    "content": p.content,
                }
                if p.is_error:
                    block["is_error"] = True
                blocks.append(block)
        role = "assistant" if m.role == "assistant" else "user"
        out.append({"role": role, "content": blocks})
    return out


def _merge_roles(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join consecutive same-role turns (tool results followed by user text, say)."""
    merged: list[dict[str, Any]] = []
    for m in messages:
        if merged and merged[-1]["role"] == m["role"]:
            merged[-1] = {"role": m["role"], "content": merged[-1]["content"] + m["content"]}
        else:
            merged.append(m)
    return merged


class _StreamParser:
    """Accumulates Anthropic raw stream events."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._tools: dict[int, dict[str, Any]] = {}
        self._start_usage: Any = None
        self._output_tokens = 0
        self._delta_usage: Any = None
        self._finish: str | None = None
        self._id: str | None = None
        self._model: str | None = None

    def feed(self, event: Any, /) -> str | None:
        kind = getattr(event, "type", None)
        if kind == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                self._text.append(delta.text)
                return str(delta.text)
            if delta.type == "input_json_delta":
                self._tools.setdefault(event.index, {"json": []})["json"].append(delta.partial_json)
        elif kind == "content_block_start":
            block = event.content_block
            if getattr(block, "type", None) == "tool_use":
                self._tools[event.index] = {"id": block.id, "name": block.name, "json": []}
        elif kind == "message_start":
            self._start_usage = event.message.usage
            self._id = event.message.id
            self._model = event.message.model
        elif kind == "message_delta":
            self._finish = event.delta.stop_reason
            self._delta_usage = event.usage
            self._output_tokens = getattr(event.usage, "output_tokens", 0) or 0
        return None

    def result(self) -> Parsed:
        usage = usage_of(self._start_usage)
        late = self._delta_usage
        if late is not None and getattr(late, "input_tokens", None):
            usage = usage_of(late)  # the final delta repeats cumulative input counts
        usage = Usage(
            usage.input_tokens,
            self._output_tokens or usage.output_tokens,
            usage.cache_read_tokens,
            usage.cache_write_tokens,
            usage.cache_write_1h_tokens,
        )
        calls = []
        for _, tool in sorted(self._tools.items()):
            raw = "".join(tool.get("json", []))
            try:
                args = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                args = {"_unparsed": raw}
            calls.append(ToolCall(tool.get("id", ""), tool.get("name", ""), args))
        return Parsed(
            text="".join(self._text),
            usage=usage,
            tool_calls=calls,
            finish_reason=self._finish,
            response_id=self._id,
            model=self._model,
            region=getattr(self._start_usage, "inference_geo", None),
        )
