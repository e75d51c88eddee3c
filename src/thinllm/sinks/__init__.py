"""Where audit events go: the :class:`Sink` protocol and the built-in sinks.

Durable sinks import their drivers lazily, so ``import thinllm.sinks`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Sink
from .memory import MemorySink

if TYPE_CHECKING:
    pass

__all__ = ["MemorySink", "Sink"]

_LAZY: dict[str, tuple[str, str]] = {}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attr)
    raise AttributeError(f"module 'thinllm.sinks' has no attribute {name!r}")
