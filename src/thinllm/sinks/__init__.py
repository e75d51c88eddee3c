"""Where audit events go: the :class:`Sink` protocol and the built-in sinks.

Durable sinks import their drivers lazily, so ``import thinllm.sinks`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Sink
from .memory import MemorySink

if TYPE_CHECKING:
    from thinllm._store import open_store

    from .buffered import BufferedSink
    from .delivery import Delivery
    from .jsonl import JSONLSink
    from .logs import StructlogSink
    from .otel import OTelSink
    from .postgres import PostgresSink
    from .sqlite import SQLiteSink

__all__ = [
    "BufferedSink",
    "Delivery",
    "JSONLSink",
    "MemorySink",
    "OTelSink",
    "PostgresSink",
    "SQLiteSink",
    "Sink",
    "StructlogSink",
    "open_store",
]

#: Imported on first attribute access, so ``import thinllm.sinks`` loads no driver.
_LAZY: dict[str, tuple[str, str]] = {
    "BufferedSink": (".buffered", "BufferedSink"),
    "Delivery": (".delivery", "Delivery"),
    "JSONLSink": (".jsonl", "JSONLSink"),
    "OTelSink": (".otel", "OTelSink"),
    "PostgresSink": (".postgres", "PostgresSink"),
    "SQLiteSink": (".sqlite", "SQLiteSink"),
    "StructlogSink": (".logs", "StructlogSink"),
    "open_store": ("thinllm._store", "open_store"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attr)
    raise AttributeError(f"module 'thinllm.sinks' has no attribute {name!r}")
