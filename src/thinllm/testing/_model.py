"""The values users see: one logged request and one scripted reply."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["FakeReply", "FakeRequest", "StopReason"]

StopReason = Literal[
    "end_turn", "tool_use", "max_tokens", "stop_sequence", "refusal", "stop", "tool_calls", "length"
]


@dataclass(frozen=True, slots=True)
class FakeRequest:
    """One HTTP request the fake vendor received, as a test wants to inspect it.

    ``headers`` has credential values masked; ``text`` is the text of the last user
    message and ``texts`` every text segment of the request (system, tools excluded),
    in order. Batch items handed to a reply callable carry their ``custom_id``.
    """

    vendor: Literal["anthropic", "openai"]
    api: Literal["messages", "chat", "responses", "batches", "files", "unknown"]
    method: str
    path: str
    headers: Mapping[str, str]
    body: dict[str, Any]
    raw_body: bytes
    model: str | None
    stream: bool
    text: str
    texts: tuple[str, ...]
    custom_id: str | None = None


@dataclass(frozen=True, slots=True)
class FakeReply:
    """A scripted answer: text, tool calls, and optional overrides of what is reported.

    ``tool_calls`` entries are ``{"name": ..., "arguments": {...}}`` (an ``"id"`` is
    optional). ``stop_reason`` accepts either vendor's vocabulary and is translated
    (``end_turn``/``stop``, ``tool_use``/``tool_calls``, ``max_tokens``/``length``);
    left ``None`` it is ``tool_use`` when there are tool calls, else ``end_turn``.
    ``input_tokens``/``output_tokens`` override the counted values.
    """

    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: StopReason | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int = 0
    model: str | None = None
