"""A transport-neutral answer, rendered by both the in-process transport and the server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Frame", "Wire", "json_wire", "sse_frame"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One server-sent-event frame; ``text_delta`` marks frames that carry reply text."""

    data: bytes
    text_delta: bool = False


@dataclass(slots=True)
class Wire:
    """What to send back: a status and body, a list of SSE frames, or a broken connection.

    ``action`` ``timeout``/``reset`` means no HTTP response at all. ``cut_after`` stops a
    stream after that many text-delta frames and breaks the connection.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    frames: list[Frame] | None = None
    delay: float = 0.0
    action: Literal["respond", "timeout", "reset"] = "respond"
    cut_after: int | None = None

    def frames_to_send(self) -> tuple[list[bytes], bool]:
        """Return the frame bytes to send and whether the connection breaks afterwards."""
        frames = self.frames or []
        if self.cut_after is None:
            return [f.data for f in frames], False
        sent: list[bytes] = []
        deltas = 0
        for frame in frames:
            if frame.text_delta:
                if deltas >= self.cut_after:
                    return sent, True
                deltas += 1
            sent.append(frame.data)
        # Fewer deltas than the cut point: still break before the stream's natural end,
        # because a client must never see a cut stream complete.
        return sent[:-1], True


def json_wire(status: int, payload: Any, headers: dict[str, str] | None = None) -> Wire:
    """A JSON response with ``content-type: application/json``."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Wire(status, {"content-type": "application/json", **(headers or {})}, body)


def sse_frame(data: Any, event: str | None = None, *, text_delta: bool = False) -> Frame:
    """Encode one SSE frame (``event:`` line optional, ``data:`` JSON or a raw string)."""
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return Frame(f"{head}data: {payload}\n\n".encode(), text_delta)
