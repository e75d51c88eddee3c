"""Tags: who, which workflow and which cost center a call belongs to."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Tags", "current_tags", "tags"]


#: The tags that are attributes of :class:`Tags` (any other name is an extra tag).
CORE = _CORE = frozenset(("user", "workflow", "cost_center"))


@dataclass(frozen=True, slots=True)
class Tags:
    """The labels carried by one call, recorded in its audit event.

    ``user``, ``workflow`` and ``cost_center`` are the usual ones; any other keyword
    becomes an extra tag (``Tags(user="a", tenant="acme")``). Values are strings.
    """

    user: str | None = None
    workflow: str | None = None
    cost_center: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    def __init__(
        self,
        user: str | None = None,
        workflow: str | None = None,
        cost_center: str | None = None,
        **extra: str,
    ) -> None:
        for name, value in (("user", user), ("workflow", workflow), ("cost_center", cost_center)):
            if value is not None and not isinstance(value, str):
                raise TypeError(f"tag {name!r} must be a string, got {type(value).__name__}")
        for name, value in extra.items():
            if not isinstance(value, str):
                raise TypeError(f"tag {name!r} must be a string, got {type(value).__name__}")
        object.__setattr__(self, "user", user)
        object.__setattr__(self, "workflow", workflow)
        object.__setattr__(self, "cost_center", cost_center)
        object.__setattr__(self, "extra", dict(extra))

    def get(self, name: str) -> str | None:
        """The value of tag ``name``, or ``None``."""
        if name in _CORE:
            value: str | None = getattr(self, name)
            return value
        return self.extra.get(name)

    def missing(self, names: Iterable[str]) -> list[str]:
        """Those of ``names`` that have no value here (the required-tags check, per call)."""
        extra = self.extra
        return [
            name
            for name in names
            if not (getattr(self, name) if name in _CORE else extra.get(name))
        ]

    def merged(self, other: Tags | None) -> Tags:
        """A copy with ``other``'s set values taking precedence."""
        if other is None:
            return self
        return Tags(**{**self.as_dict(), **other.as_dict()})

    def as_dict(self) -> dict[str, str]:
        """The set tags as a plain dict (unset ones left out)."""
        out: dict[str, str] = {}
        if self.user is not None:
            out["user"] = self.user
        if self.workflow is not None:
            out["workflow"] = self.workflow
        if self.cost_center is not None:
            out["cost_center"] = self.cost_center
        out.update(self.extra)
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())
        return f"Tags({inner})"


EMPTY = Tags()
_ambient: contextvars.ContextVar[Tags] = contextvars.ContextVar("thinllm_tags", default=EMPTY)


def current_tags() -> Tags:
    """The ambient tags set by enclosing ``with thinllm.tags(...)`` blocks."""
    return _ambient.get()


@contextlib.contextmanager
def tags(tags: Tags | None = None, /, **values: Any) -> Iterator[Tags]:
    """Set ambient tags for the calls made inside the block (contextvars-based).

    Nested blocks merge over outer ones; explicit ``tags=`` on a call merges over both.
    Works across threads and asyncio tasks the way contextvars do.
    """
    new = current_tags().merged(tags).merged(Tags(**values) if values else None)
    token = _ambient.set(new)
    try:
        yield new
    finally:
        _ambient.reset(token)


def resolve(explicit: Tags | Mapping[str, str] | None) -> Tags:
    """Ambient tags merged with the call's explicit ones."""
    ambient = _ambient.get()
    if explicit is None:
        return ambient
    if type(explicit) is Tags:  # the common case, checked before the costlier ABC check
        return ambient.merged(explicit) if ambient is not EMPTY else explicit
    if isinstance(explicit, Mapping):
        explicit = Tags(**explicit)
    elif not isinstance(explicit, Tags):
        raise TypeError(f"tags= must be thinllm.Tags or a dict, got {type(explicit).__name__}")
    return ambient.merged(explicit) if ambient is not EMPTY else explicit
