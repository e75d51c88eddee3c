"""Prompts, written explicitly: static parts first, dynamic messages last.

A :class:`Prompt` holds exactly the text the user wrote. Renderers (``providers/``)
turn it into one vendor's request without adding a word: the only additions on the
wire are cache markers and the vendor's tag fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from .errors import ConfigurationError

__all__ = [
    "Message",
    "Prompt",
    "Text",
    "Tool",
    "ToolCall",
    "ToolResult",
    "assistant",
    "tool_result",
    "user",
]

Role = Literal["user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class Text:
    """A block of text inside a message."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for (``reply.tool_calls``), or one replayed in history."""

    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool returned, sent back to the model in a ``tool`` message."""

    tool_call_id: str
    content: str
    is_error: bool = False


Part = Text | ToolCall | ToolResult


@dataclass(frozen=True, slots=True)
class Message:
    """One conversation turn: ``user``, ``assistant`` or ``tool`` (tool results)."""

    role: Role
    parts: tuple[Part, ...]

    @property
    def text(self) -> str:
        """The message's text blocks joined (for display; renderers keep blocks apart)."""
        return "".join(p.text for p in self.parts if isinstance(p, Text))


def user(text: str) -> Message:
    """A user message with one text block."""
    _check_text(text, "user(...)")
    return Message("user", (Text(text),))


def assistant(text: str = "", *, tool_calls: Iterable[ToolCall] = ()) -> Message:
    """An assistant message: text and/or tool calls (for few-shot examples or history)."""
    _check_text(text, "assistant(...)")
    parts: list[Part] = [Text(text)] if text else []
    parts.extend(tool_calls)
    if not parts:
        raise ConfigurationError("assistant(...) needs text or tool_calls")
    return Message("assistant", tuple(parts))


def tool_result(tool_call_id: str, content: str, *, is_error: bool = False) -> Message:
    """A message returning a tool's output for the call ``tool_call_id``."""
    _check_text(content, "tool_result(...)")
    return Message("tool", (ToolResult(tool_call_id, content, is_error),))


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool the model may call, declared once in a neutral form.

    ``parameters`` is a JSON Schema object describing the arguments. Renderers turn
    it into Anthropic ``input_schema`` or OpenAI ``function.parameters``.
    """

    name: str
    description: str
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )

    def __post_init__(self) -> None:
        _check_text(self.description, f"Tool({self.name!r}) description")

    @classmethod
    def coerce(cls, value: Tool | Mapping[str, Any]) -> Tool:
        """Accept a :class:`Tool` or a dict with ``name``, ``description`` and a schema."""
        if isinstance(value, Tool):
            return value
        if not isinstance(value, Mapping):
            raise ConfigurationError(
                f"tools must be thinllm.Tool or dicts, got {type(value).__name__}"
            )
        name = value.get("name")
        schema = value.get("parameters", value.get("input_schema"))
        if "function" in value and isinstance(value["function"], Mapping):
            return cls.coerce(value["function"])
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                "a tool dict needs a 'name' string, a 'description' and 'parameters' "
                "(a JSON Schema object); got keys " + ", ".join(sorted(map(str, value)))
            )
        if schema is None:
            schema = {"type": "object", "properties": {}}
        if not isinstance(schema, Mapping) or schema.get("type") != "object":
            raise ConfigurationError(
                f'tool {name!r}: \'parameters\' must be a JSON Schema with "type": "object"'
            )
        return cls(name, str(value.get("description", "")), dict(schema))


@dataclass(frozen=True, slots=True)
class Prompt:
    """An explicit prompt: static parts first (cached), dynamic messages last.

    - ``system``: instructions (static).
    - ``tools``: tools the model may call (static).
    - ``context``: reference documents (static, cached): placed right after ``system``.
    - ``examples``: few-shot ``(user_text, assistant_text)`` pairs or messages (static).
    - ``messages``: the conversation for this call (dynamic).
    - ``cache``: ``"auto"`` puts a cache breakpoint at the end of the static prefix
      when it is long enough for the vendor to cache; ``True`` always; ``False`` never.
    - ``cache_ttl``: ``"5m"`` or ``"1h"`` (Anthropic).
    """

    system: str | None = None
    context: tuple[str, ...] = ()
    examples: tuple[Message, ...] = ()
    messages: tuple[Message, ...] = ()
    tools: tuple[Tool, ...] = ()
    cache: bool | Literal["auto"] = "auto"
    cache_ttl: Literal["5m", "1h"] = "5m"
    _hash: str | None = field(default=None, init=False, repr=False, compare=False)
    _chars: int | None = field(default=None, init=False, repr=False, compare=False)
    _static_texts: tuple[str, ...] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __init__(
        self,
        system: str | None = None,
        *,
        context: Iterable[str] = (),
        examples: Iterable[Message | tuple[str, str]] = (),
        messages: Iterable[Message | str] = (),
        tools: Iterable[Tool | Mapping[str, Any]] = (),
        cache: bool | Literal["auto"] = "auto",
        cache_ttl: Literal["5m", "1h"] = "5m",
    ) -> None:
        if system is not None:
            _check_text(system, "Prompt(system=...)")
        if isinstance(context, str):
            context = (context,)
        ctx = tuple(context)
        for item in ctx:
            _check_text(item, "Prompt(context=[...])")
        object.__setattr__(self, "system", system)
        object.__setattr__(self, "context", ctx)
        object.__setattr__(self, "examples", _coerce_examples(examples))
        if isinstance(messages, str | Message):
            messages = (messages,)
        msgs = tuple(user(m) if isinstance(m, str) else m for m in messages)
        for m in msgs:
            if not isinstance(m, Message):
                raise ConfigurationError(
                    "messages must be thinllm.user(...)/assistant(...)/tool_result(...) "
                    f"or strings, got {type(m).__name__}"
                )
        object.__setattr__(self, "messages", msgs)
        tool_list = tuple(Tool.coerce(t) for t in tools)
        names = [t.name for t in tool_list]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"tool names must be unique, got {names}")
        object.__setattr__(self, "tools", tool_list)
        if cache not in (True, False, "auto"):
            raise ConfigurationError("cache= must be True, False or 'auto'")
        if cache_ttl not in ("5m", "1h"):
            raise ConfigurationError("cache_ttl= must be '5m' or '1h'")
        object.__setattr__(self, "cache", cache)
        object.__setattr__(self, "cache_ttl", cache_ttl)
        object.__setattr__(self, "_hash", None)
        object.__setattr__(self, "_chars", None)
        object.__setattr__(self, "_static_texts", None)
        if not (system or ctx or msgs):
            raise ConfigurationError(
                "the prompt is empty: give it a system text, context or at least one message"
            )
        if not msgs:
            raise ConfigurationError(
                "the prompt has no messages: add messages=[thinllm.user(...)] (vendors need "
                "at least one user turn)"
            )

    def with_messages(self, *messages: Message | str) -> Prompt:
        """The same static prefix with different dynamic messages."""
        prompt = Prompt(messages=messages, cache=self.cache, cache_ttl=self.cache_ttl)
        # The static parts were checked when this prompt was built: share them rather
        # than check them again (a large non-ASCII context costs ~1.5 µs per kB to check),
        # and with them their derived values, so a prompt built per call from a shared
        # base recomputes nothing.
        object.__setattr__(prompt, "system", self.system)
        object.__setattr__(prompt, "context", self.context)
        object.__setattr__(prompt, "examples", self.examples)
        object.__setattr__(prompt, "tools", self.tools)
        object.__setattr__(prompt, "_hash", self._hash)
        object.__setattr__(prompt, "_chars", self._chars)
        object.__setattr__(prompt, "_static_texts", self._static_texts)
        return prompt

    def map_text(self, fn: Callable[[str], str]) -> Prompt:
        """A copy with ``fn`` applied to every text the vendor would receive.

        Covers system, context, examples, messages, tool descriptions, tool results
        and the string values inside replayed tool-call arguments. Used by PII handling.
        """
        return replace(
            self,
            system=fn(self.system) if self.system is not None else None,
            context=tuple(fn(c) for c in self.context),
            examples=tuple(_map_message(m, fn) for m in self.examples),
            messages=tuple(_map_message(m, fn) for m in self.messages),
            tools=tuple(replace(t, description=fn(t.description)) for t in self.tools),
        )

    def texts(self) -> list[str]:
        """Every text the vendor would receive, in order (for scanning and lints).

        The same texts, in the same order, that :meth:`map_text` visits.
        """
        out: list[str] = []
        if self.system is not None:
            out.append(self.system)
        out.extend(self.context)
        _message_texts(self.examples, out)
        _message_texts(self.messages, out)
        out.extend(t.description for t in self.tools)
        return out

    def static_texts(self) -> tuple[str, ...]:
        """The texts of the static prefix: system, context, examples, tool descriptions.

        With :meth:`message_texts`, the same texts :meth:`texts` lists (in another
        order). Kept after the first call unless an example replays a tool call, whose
        arguments may be a mutable mapping.
        """
        if self._static_texts is not None:
            return self._static_texts
        out: list[str] = []
        if self.system is not None:
            out.append(self.system)
        out.extend(self.context)
        _message_texts(self.examples, out)
        out.extend(t.description for t in self.tools)
        texts = tuple(out)
        if not any(isinstance(p, ToolCall) for m in self.examples for p in m.parts):
            object.__setattr__(self, "_static_texts", texts)
        return texts

    def message_texts(self) -> list[str]:
        """The texts of the dynamic messages, in order (a new list each time)."""
        return _message_texts(self.messages, [])

    def static_hash(self) -> str:
        """A hash of the static prefix (system, context, examples, tools).

        Equal hashes mean the vendor can serve the prefix from its cache; recorded as
        ``prompt_hash`` in every audit event.
        """
        if self._hash is not None:
            return self._hash
        payload = json.dumps(
            [
                self.system,
                list(self.context),
                [_message_key(m) for m in self.examples],
                [[t.name, t.description, t.parameters] for t in self.tools],
            ],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=str,
        )
        digest = hashlib.sha256(payload.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        object.__setattr__(self, "_hash", digest)
        return digest

    def static_chars(self) -> int:
        """Characters in the static prefix (used to decide whether caching can pay)."""
        if self._chars is not None:
            return self._chars
        n = len(self.system or "") + sum(len(c) for c in self.context)
        n += sum(len(json.dumps(_message_key(m))) for m in self.examples)
        n += sum(len(t.description) + len(json.dumps(t.parameters)) for t in self.tools)
        object.__setattr__(self, "_chars", n)
        return n

    def __repr__(self) -> str:
        bits = []
        if self.system:
            bits.append(f"system={_short(self.system)}")
        if self.context:
            bits.append(f"context=[{len(self.context)} docs]")
        if self.examples:
            bits.append(f"examples=[{len(self.examples)}]")
        if self.tools:
            bits.append("tools=[" + ", ".join(t.name for t in self.tools) + "]")
        bits.append(f"messages=[{len(self.messages)}]")
        return "Prompt(" + ", ".join(bits) + ")"


def _message_texts(messages: tuple[Message, ...], out: list[str]) -> list[str]:
    """Append the texts of ``messages`` to ``out`` (as :meth:`Prompt.texts` visits them)."""
    for message in messages:
        for part in message.parts:
            if isinstance(part, Text):
                out.append(part.text)
            elif isinstance(part, ToolResult):
                out.append(part.content)
            else:
                map_json_strings(part.arguments, _collect(out))
    return out


def _collect(out: list[str]) -> Callable[[str], str]:
    def collect(text: str) -> str:
        out.append(text)
        return text

    return collect


def _coerce_examples(examples: Iterable[Message | tuple[str, str]]) -> tuple[Message, ...]:
    out: list[Message] = []
    for ex in examples:
        if isinstance(ex, Message):
            out.append(ex)
        elif isinstance(ex, tuple) and len(ex) == 2 and all(isinstance(x, str) for x in ex):
            out.extend((user(ex[0]), assistant(ex[1])))
        else:
            raise ConfigurationError(
                "examples must be (user_text, assistant_text) pairs or messages, "
                f"got {type(ex).__name__}"
            )
    return tuple(out)


def _map_message(message: Message, fn: Callable[[str], str]) -> Message:
    parts: list[Part] = []
    for p in message.parts:
        if isinstance(p, Text):
            parts.append(Text(fn(p.text)))
        elif isinstance(p, ToolResult):
            parts.append(ToolResult(p.tool_call_id, fn(p.content), p.is_error))
        else:
            parts.append(ToolCall(p.id, p.name, map_json_strings(p.arguments, fn)))
    return Message(message.role, tuple(parts))


def map_json_strings(value: Any, fn: Callable[[str], str]) -> Any:
    """Apply ``fn`` to every string inside a JSON-like value (keys are kept)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: map_json_strings(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_json_strings(v, fn) for v in value]
    return value


def _message_key(m: Message) -> list[Any]:
    return [m.role, [_part_key(p) for p in m.parts]]


def _part_key(p: Part) -> Any:
    if isinstance(p, Text):
        return p.text
    if isinstance(p, ToolCall):
        return ["call", p.id, p.name, dict(p.arguments)]
    return ["result", p.tool_call_id, p.content, p.is_error]


def _check_text(value: object, where: str) -> None:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where} takes a string, got {type(value).__name__}")
    # A surrogate code point ("\\ud800", from json.loads of a broken \\u escape or bytes
    # decoded with errors="surrogateescape") is valid in a str but not in UTF-8, so no
    # vendor API accepts it and the SDK would fail while encoding the request.
    # isascii() is O(1) in CPython, so most texts skip the encode.
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise unsendable(exc, where) from None


def unsendable(exc: UnicodeEncodeError, where: str, *, position: bool = True) -> ConfigurationError:
    """The error for text UTF-8 cannot encode: where, which code point, what to do.

    It names the place and the position, never the text (which may hold PII).

    ``position=False`` when ``exc`` comes from encoding a whole request body, whose
    character offsets mean nothing to the caller.
    """
    at = f" at character {exc.start}" if position else ""
    return ConfigurationError(
        f"{where}: the text has a surrogate code point (U+{ord(exc.object[exc.start]):04X})"
        f"{at}, which cannot be sent as UTF-8, so nothing was sent; it "
        "usually comes from decoding broken \\u escapes or bytes with "
        "errors='surrogateescape'. Clean the text first, e.g. "
        "text.encode('utf-8', 'replace').decode('utf-8')"
    )


def _short(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[: n - 1] + "…")
