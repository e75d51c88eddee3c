"""The vendor-neutral answer the handler builds and each wire module renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Answer", "Counts", "Stop", "ToolCall", "fake_id"]

Stop = Literal["end", "tool", "max", "stop_sequence", "refusal"]


@dataclass(frozen=True, slots=True)
class Counts:
    """Token counts for one answer; ``input_total`` includes cache reads and writes."""

    input_total: int
    cache_read: int = 0
    write_5m: int = 0
    write_1h: int = 0
    output: int = 0
    reasoning: int = 0

    @property
    def uncached(self) -> int:
        """Input tokens neither read from nor written to the cache (Anthropic's input_tokens)."""
        return self.input_total - self.cache_read - self.write_5m - self.write_1h


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call in an answer."""

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Answer:
    """Everything a wire module needs to render a successful reply."""

    seq: int
    model: str
    text: str
    tool_calls: tuple[ToolCall, ...]
    stop: Stop
    counts: Counts


def fake_id(prefix: str, seq: int, suffix: str = "") -> str:
    """A deterministic, vendor-shaped identifier such as ``msg_fake000000000000000042``."""
    return f"{prefix}fake{seq:018d}{suffix}"
