"""What every vendor adapter provides, and how a vendor client is recognised.

An adapter turns a :class:`~thinllm.Prompt` plus options into the exact keyword
arguments of one SDK method, and that method's return value (or stream) back into
text, tool calls and normalized usage. Adapters hold no state.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from .._prompt import Prompt, ToolCall
from .._reply import Usage, new_usage
from ..errors import ConfigurationError, UnsupportedOptionError

__all__ = [
    "OutputSpec",
    "Parsed",
    "Provider",
    "StreamParser",
    "detect",
    "openai_usage",
    "read_field",
]


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """A structured-output request: a name, a JSON schema and the validator."""

    name: str
    schema: Mapping[str, Any]
    validate: Callable[[str], Any]
    #: What the user passed as ``output=`` (a pydantic model class or a type).
    source: Any = None

    def strict_schema(self) -> dict[str, Any]:
        """The schema in OpenAI's strict form (all properties required, no extras)."""
        import pydantic
        from openai.lib._pydantic import to_strict_json_schema

        target = self.source
        if not (isinstance(target, type) and issubclass(target, pydantic.BaseModel)):
            target = pydantic.TypeAdapter(target)
        return to_strict_json_schema(target)

    @classmethod
    def of(cls, output: Any) -> OutputSpec:
        """Build from a pydantic model class (or anything ``pydantic.TypeAdapter`` accepts)."""
        import pydantic

        if isinstance(output, type) and issubclass(output, pydantic.BaseModel):
            model = output
            return cls(model.__name__, model.model_json_schema(), model.model_validate_json, model)
        try:
            adapter = pydantic.TypeAdapter(output)
            schema = adapter.json_schema()
        except Exception as exc:
            raise ConfigurationError(
                f"output= must be a pydantic model class or a type pydantic can validate; "
                f"got {output!r}"
            ) from exc
        name = getattr(output, "__name__", "output")
        return cls(name, schema, adapter.validate_json, output)


@dataclass(slots=True)
class Parsed:
    """A vendor response reduced to what thinllm records."""

    text: str
    usage: Usage
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    response_id: str | None = None
    model: str | None = None
    region: str | None = None


class StreamParser(Protocol):
    """Consumes one vendor stream's events; yields text; knows the final result."""

    def feed(self, event: Any, /) -> str | None:
        """The text delta carried by ``event`` (``None`` if it carries none)."""

    def result(self) -> Parsed:
        """What the stream delivered so far (complete once the stream ended)."""


class Provider(Protocol):
    """A vendor API adapter (Anthropic Messages, OpenAI Chat Completions or Responses)."""

    api: str

    def method(self, client: Any, /) -> Callable[..., Any]:
        """The SDK method this adapter calls on ``client``."""

    def render(
        self,
        prompt: Prompt,
        model: str,
        options: Mapping[str, Any],
        output: OutputSpec | None,
        user_id: str | None,
    ) -> dict[str, Any]:
        """The exact keyword arguments for :meth:`method` (``stream`` excluded)."""

    def stream_kwargs(self) -> dict[str, Any]:
        """What to add to the keyword arguments to stream."""

    def parse(self, raw: Any, /) -> Parsed:
        """Text, tool calls and usage from a non-streamed response."""

    def stream_parser(self) -> StreamParser:
        """A fresh parser for one stream."""


def detect(client: object) -> tuple[str, bool, str]:
    """``(otel provider name, is_async, default api)`` for a vendor client, without imports."""
    cls = type(client)
    module = cls.__module__.split(".", 1)[0]
    names = [c.__name__ for c in cls.__mro__]
    is_async = any(n.startswith("Async") for n in names)
    if module == "anthropic" or any("Anthropic" in n for n in names):
        if any("Bedrock" in n for n in names):
            return "aws.bedrock", is_async, "messages"
        if any("Vertex" in n for n in names):
            return "gcp.vertex_ai", is_async, "messages"
        if any("Foundry" in n for n in names):
            return "azure.ai.inference", is_async, "messages"
        return "anthropic", is_async, "messages"
    if module == "openai" or any(n in ("OpenAI", "AsyncOpenAI") for n in names):
        if any("Azure" in n for n in names):
            return "azure.ai.openai", is_async, "chat"
        return "openai", is_async, "chat"
    raise ConfigurationError(
        f"unknown route type {cls.__module__}.{cls.__name__}: a Route wraps an "
        "anthropic.Anthropic, AsyncAnthropic, AnthropicBedrock, AnthropicVertex, openai.OpenAI, "
        "AsyncOpenAI or AzureOpenAI client (any OpenAI-compatible server works through "
        "openai.OpenAI(base_url=...))"
    )


@cache
def parameters_of(func: Callable[..., Any]) -> frozenset[str]:
    """Keyword parameters an SDK method accepts (read from its signature once)."""
    return frozenset(inspect.signature(func).parameters) - {"self"}


def apply_options(
    kwargs: dict[str, Any],
    options: Mapping[str, Any],
    *,
    rename: Mapping[str, str],
    managed: frozenset[str],
    accepted: frozenset[str],
    api: str,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
) -> None:
    """Copy call options into ``kwargs`` under the vendor's names, refusing unknown ones.

    ``rename`` maps neutral names (``max_tokens``, ``stop``) to this API's; ``managed``
    are fields thinllm itself renders from the prompt; anything else must be a
    parameter of the SDK method. Nothing is ever dropped silently.
    """
    for name, value in options.items():
        if value is None:
            continue
        target = rename.get(name, name)
        if name in managed or target in managed:
            raise UnsupportedOptionError(
                f"{name!r} is rendered from the Prompt; set it there instead of as an option",
                option=name,
                route=api,
            )
        if target not in accepted:
            raise UnsupportedOptionError(
                f"option {name!r} is not accepted by the {api} API of this route; remove it "
                f"or pass vendor-specific fields with extra={{...}}",
                option=name,
                route=api,
            )
        kwargs[target] = convert[name](value) if convert and name in convert else value


def read_field(obj: Any, name: str) -> Any:
    """``getattr(obj, name, None)`` for a data field of an SDK response object.

    On a pydantic model (every SDK response type) a missing attribute goes through the
    model's ``__getattr__`` and a raised ``AttributeError``: about 22k instructions, more
    than the rest of a Chat call's parsing, whenever the installed SDK lacks a newer
    usage field. A pydantic model holds its fields in ``__dict__`` and unknown (extra)
    fields in ``__pydantic_extra__``, so both are read directly and any other name is
    ``None`` (use it for response data, not for properties). A dict (what pydantic keeps
    for an unknown nested field) is read by key; other objects (test doubles) go through
    ``getattr``.
    """
    if type(obj) is dict:
        # An SDK that lacks a nested model keeps it as an extra field: a plain dict.
        return obj.get(name)
    values = getattr(obj, "__dict__", None)
    if values is not None and name in values:
        return values[name]
    # Looked up on the class, not the instance: pydantic's metaclass __getattr__ (the
    # costly path again) only runs for names the class lacks, and it has this one.
    if getattr(type(obj), "__pydantic_fields__", None) is not None:
        extra = obj.__pydantic_extra__
        return extra.get(name) if extra else None
    return getattr(obj, name, None)


def openai_usage(u: Any, details_name: str, input_name: str, output_name: str) -> Usage:
    """Normalize an OpenAI usage object (Chat or Responses: only the field names differ).

    The input count already includes cached tokens on both APIs. ``read_field`` reads
    the cache-write fields, which older SDKs' models lack: a getattr miss on a pydantic
    model costs more than the rest of the parsing.
    """
    if u is None:
        return Usage()
    details = getattr(u, details_name, None)
    read = (getattr(details, "cached_tokens", None) or 0) if details else 0
    write = (read_field(details, "cache_write_tokens") or 0) if details else 0
    ttl = read_field(details, "cache_write_tokens_details") if details else None
    write_long = (read_field(ttl, "ttl_12h_tokens") or 0) if ttl else 0
    return new_usage(
        getattr(u, input_name, 0) or 0,
        getattr(u, output_name, 0) or 0,
        read,
        write,
        # The 12-hour TTL is priced at the table's long-TTL write rate (cache_write_1h).
        write_long,
    )


def check_max_tokens(value: Any) -> int:
    """Validate ``max_tokens`` (a positive int)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"max_tokens must be a positive integer, got {value!r}")
    return value
