"""The flag protocol, the built-in flags, and how a flag is evaluated for one call.

A flag that raises, returns something other than a bool, or reports a problem counts
as off (or as its own configured default), so a broken flag service hands work back
to the prior workflow instead of failing open. The audit event records why.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .._tags import Tags

__all__ = ["EnvFlag", "Flag", "StaticFlag", "evaluate"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@runtime_checkable
class Flag(Protocol):
    """Decides whether the AI path is on for a call with these tags.

    A flag may also offer ``resolve(tags) -> (on, problem)``; when it does, the
    ``problem`` (e.g. "FLAG_NOT_FOUND, default used") is recorded in the audit event.
    """

    def __call__(self, tags: Tags, /) -> bool:
        """``True`` to call the model, ``False`` to hand the work to the prior workflow."""


@dataclass(frozen=True, slots=True)
class EnvFlag:
    """A flag read from an environment variable at every call (flip it without a restart).

    ``1/true/yes/on`` and ``0/false/no/off`` (any case); unset or empty means
    ``default``. Any other value counts as off and is reported in the audit event.
    """

    name: str
    default: bool = True

    def __call__(self, tags: Tags, /) -> bool:
        on, problem = self.resolve(tags)
        if problem is not None:
            raise ConfigurationError(
                f"environment variable {self.name} must be one of 1/true/yes/on or 0/false/no/off"
            )
        return on

    def resolve(self, tags: Tags, /) -> tuple[bool, str | None]:
        """``(on, problem)``; an unrecognised value is off, and says so (not what it was)."""
        # Read at every call, so the kill switch acts on the very next call. On POSIX
        # os.environ keeps its values in a plain dict of bytes (``_data``) that every
        # ``os.environ[...] = ...``/``del`` updates; one lookup there skips the five
        # Python-level frames of os.environ.get (a third of the flag check's cost).
        # os.environ.get elsewhere, or when os.environ was replaced (a test's dict).
        if os.environ is _ENVIRON and type(_ENV_DATA) is dict:
            raw = _ENV_DATA.get(self.name.encode(_FS_ENCODING, "surrogateescape"))
        else:
            raw = os.environ.get(self.name)
        return _verdict(raw, self.default)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class StaticFlag:
    """A fixed flag (``StaticFlag(False)`` turns the AI path off everywhere it is used)."""

    enabled: bool
    name: str = "static"

    def __call__(self, tags: Tags, /) -> bool:
        return self.enabled

    def __str__(self) -> str:
        return self.name


#: ``os.environ`` as imported, and the bytes dict behind it on POSIX (see EnvFlag.resolve).
_ENVIRON = os.environ
_ENV_DATA = getattr(os.environ, "_data", None) if os.name == "posix" else None
_FS_ENCODING = sys.getfilesystemencoding()


@lru_cache(maxsize=64)
def _verdict(raw: str | bytes | None, default: bool) -> tuple[bool, str | None]:
    """``(on, problem)`` for one raw value (cached: a flag holds a handful of values)."""
    if isinstance(raw, bytes):
        raw = raw.decode(_FS_ENCODING, "surrogateescape")
    if raw is None or not raw.strip():
        return default, None
    value = raw.strip().lower()
    if value in _TRUE:
        return True, None
    if value in _FALSE:
        return False, None
    return False, "unrecognised value, counted as off"


def coerce(flag: object) -> Flag | None:
    """Accept ``None``, a bool, or a callable ``(tags) -> bool``."""
    if flag is None:
        return None
    if isinstance(flag, bool):
        return StaticFlag(flag)
    if callable(flag):
        return flag
    raise ConfigurationError(
        f"flag= takes a bool, a callable (tags) -> bool, or thinllm.flags.EnvFlag(...); "
        f"got {type(flag).__name__}"
    )


def flag_name(flag: object) -> str:
    """A short name for the audit event's ``flag`` field."""
    if isinstance(flag, EnvFlag | StaticFlag):
        return str(flag)
    key = getattr(flag, "key", None) or getattr(flag, "name", None)
    if isinstance(key, str):
        return key
    return getattr(flag, "__qualname__", type(flag).__name__)


def evaluate(flag: Flag, tags: Tags) -> tuple[bool, str | None]:
    """``(on, problem)``: a flag that raises or returns a non-bool counts as off."""
    if type(flag) is EnvFlag:  # the common kill switch: its resolve() cannot fail
        return flag.resolve(tags)
    problem: object = None
    try:
        resolve = getattr(flag, "resolve", None)
        if callable(resolve):
            result = resolve(tags)
            if not (isinstance(result, tuple) and len(result) == 2):
                return False, f"resolve() returned {type(result).__name__}, not (bool, problem)"
            value, problem = result
        else:
            value = flag(tags)
    except Exception as exc:  # a broken flag service must not fail open
        return False, f"{type(exc).__name__}"
    if not isinstance(value, bool):
        return False, f"returned {type(value).__name__}, not bool"
    return value, str(problem) if problem is not None else None
