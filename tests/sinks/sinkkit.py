"""Helpers for the sink tests: events built directly, child processes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import thinllm
from thinllm._events import CallEvent

#: A fake vendor key placed in events to show sinks store content verbatim and add nothing.
FAKE_KEY = "sk-ant-api03-FAKEFAKEFAKEFAKEFAKEFAKEFAKEFAKE"

SRC = str(Path(thinllm.__file__).resolve().parent.parent)

EventFactory = Callable[..., CallEvent]


def build_event(n: int = 0, **overrides: Any) -> CallEvent:
    """A realistic event; ``n`` varies the tags and tokens, and is the minute after 2026-11-10."""
    fields: dict[str, Any] = {
        "call_id": uuid.uuid4().hex,
        "ts": f"2026-11-{10 + n // 1440:02d}T{n // 60 % 24:02d}:{n % 60:02d}:00.250000+00:00",
        "latency_ms": 120.5 + n,
        "tags": {
            "user": f"user{n % 3}@corp",
            "workflow": "support-triage" if n % 2 else "summaries",
            "cost_center": "cs-eu" if n % 2 else "cs-us",
        },
        "outcome": "ok",
        "route": "primary",
        "provider": "anthropic",
        "model": "claude-sonnet-5-5",
        "attempts": (
            {
                "route": "primary",
                "model": "claude-sonnet-5-5",
                "status": 200,
                "error": None,
                "latency_ms": 118.25,
            },
        ),
        "usage": {
            "input_tokens": 1000 + n,
            "output_tokens": 50,
            "cache_read_tokens": 800,
            "cache_write_tokens": 0,
        },
        "cost_usd": "0.001290",
        "pii": {"EMAIL_ADDRESS": 1},
        "pii_action": "redacted",
        "prompt_hash": f"prefix{n % 2}",
        "finish_reason": "end_turn",
        "response_id": f"msg_{n}",
        "options": {"max_tokens": 256, "temperature": 0.2},
        "content": {"request": "Ticket: printer on fire [EMAIL]", "response": "hardware"},
    }
    fields.update(overrides)
    return CallEvent(**fields)


def run_python(code: str, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """Start ``python -c code *args`` with this checkout importable; stdout piped as text."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )
