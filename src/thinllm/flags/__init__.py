"""Kill switches: decide per call whether the AI path is on.

A flag is any callable ``(tags) -> bool``. A flag that raises counts as off, so a
broken flag service hands work back to the prior workflow instead of failing open.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import EnvFlag, Flag, StaticFlag, evaluate

if TYPE_CHECKING:
    from ._openfeature import OpenFeatureFlag

__all__ = ["EnvFlag", "Flag", "OpenFeatureFlag", "StaticFlag", "evaluate"]


def __getattr__(name: str) -> Any:
    if name == "OpenFeatureFlag":
        from ._openfeature import OpenFeatureFlag

        return OpenFeatureFlag
    raise AttributeError(f"module 'thinllm.flags' has no attribute {name!r}")
