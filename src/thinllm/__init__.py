"""thinllm: thin, explicit governance around the official anthropic and openai clients.

::

    from thinllm import Client, Route, Prompt, Tags, user
    client = Client(routes=[Route(anthropic.Anthropic(), model="claude-sonnet-5-5")])
    reply = client.complete(Prompt(system="...", messages=[user("...")]), max_tokens=256)

Optional pieces live in subpackages: ``thinllm.sinks``, ``thinllm.pii``,
``thinllm.flags``, ``thinllm.pricing``, ``thinllm.evals``, ``thinllm.testing``.
"""

from __future__ import annotations

import typing as _typing

from ._client import Client
from ._events import CallEvent
from ._prompt import Message, Prompt, Text, Tool, ToolCall, ToolResult, assistant, tool_result, user
from ._reply import Attempt, Reply, Usage
from ._retry import Circuit, Retry
from ._route import Route
from ._tags import Tags, current_tags, tags
from .errors import (
    AIDisabledError,
    AuditIntegrityError,
    AuditWriteError,
    BudgetExceededError,
    ConfigurationError,
    MissingTagsError,
    OutputValidationError,
    PIIBlockedError,
    RequestRejectedError,
    RoutesExhaustedError,
    StreamInterruptedError,
    ThinLLMError,
    UnsupportedOptionError,
)

if _typing.TYPE_CHECKING:
    from ._batch import BatchJob
    from ._budget import Budget
    from ._cachelint import LintWarning, lint_prompt

__version__ = "0.1.0.dev0"

#: Public names whose modules load on first use, keeping ``import thinllm`` fast.
_LAZY = {
    "BatchJob": "._batch",
    "Budget": "._budget",
    "LintWarning": "._cachelint",
    "lint_prompt": "._cachelint",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'thinllm' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AIDisabledError",
    "Attempt",
    "AuditIntegrityError",
    "AuditWriteError",
    "BatchJob",
    "Budget",
    "BudgetExceededError",
    "CallEvent",
    "Circuit",
    "Client",
    "ConfigurationError",
    "LintWarning",
    "Message",
    "MissingTagsError",
    "OutputValidationError",
    "PIIBlockedError",
    "Prompt",
    "Reply",
    "RequestRejectedError",
    "Retry",
    "Route",
    "RoutesExhaustedError",
    "StreamInterruptedError",
    "Tags",
    "Text",
    "ThinLLMError",
    "Tool",
    "ToolCall",
    "ToolResult",
    "UnsupportedOptionError",
    "Usage",
    "assistant",
    "current_tags",
    "lint_prompt",
    "tags",
    "tool_result",
    "user",
]
