"""Result types and argument parsing shared by every audit store."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from thinllm.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from thinllm._events import CallEvent

__all__ = ["GROUP_KEYS", "BadEvent", "VerifyResult", "check_group_keys", "parse_time"]

#: ``costs(by=...)`` keys, and the column each groups on.
GROUP_KEYS = {
    "cost_center": "tag_cost_center",
    "workflow": "tag_workflow",
    "user": "tag_user",
    "model": "model",
    "provider": "provider",
    "route": "route",
    "outcome": "outcome",
}

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(value: str | datetime | None, *, now: datetime | None = None) -> datetime | None:
    """A UTC datetime from ISO 8601 (naive means UTC) or a duration ago (``7d``, ``12h``)."""
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
    match = _RELATIVE.match(value)
    if match:
        amount, unit = float(match.group(1)), _UNITS[match.group(2)]
        return (now or datetime.now(UTC)) - timedelta(**{unit: amount})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigurationError(
            f"cannot read time {value!r}: use ISO 8601 (2026-11-01 or 2026-11-01T09:00Z) "
            "or a duration ago (30m, 12h, 7d, 2w)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_us(value: datetime | None) -> int | None:
    """Microseconds since the epoch (the stores' ``ts_us`` column)."""
    if value is None:
        return None
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def check_group_keys(by: Sequence[str] | str) -> tuple[str, ...]:
    """Validate ``by`` (a sequence or a comma-separated string) against :data:`GROUP_KEYS`."""
    keys = tuple(k.strip() for k in by.split(",")) if isinstance(by, str) else tuple(by)
    keys = tuple(k for k in keys if k)
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise ConfigurationError(
            f"cannot group costs by {', '.join(unknown)}; choose from {', '.join(GROUP_KEYS)}"
        )
    return keys


Kind = Literal["altered", "inserted", "deleted"]


@dataclass(frozen=True, slots=True)
class BadEvent:
    """Where a hash chain breaks.

    ``kind``: ``"altered"`` (the event's content no longer matches its hash),
    ``"inserted"`` (an event that is not part of the chain), ``"deleted"`` (events
    are missing before ``event``, or, with ``event`` None, at the end of the store).
    """

    kind: Kind
    detail: str
    position: int | None
    event: CallEvent | None

    @property
    def call_id(self) -> str | None:
        """The ``call_id`` of the event where the break was found (None at the end)."""
        return self.event.call_id if self.event is not None else None


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of walking a store's hash chain. ``bool(result)`` is ``result.ok``."""

    ok: bool
    checked: int
    head: str | None
    first_bad: BadEvent | None = None

    def __bool__(self) -> bool:
        return self.ok

    def describe(self) -> str:
        """One line for humans: what was checked, or where it breaks."""
        if self.ok:
            return f"ok: {self.checked} events, chain head {self.head or '-'}"
        bad = self.first_bad
        assert bad is not None
        where = f"event {bad.call_id} (position {bad.position})" if bad.event else "end of store"
        return f"FAILED at {where}: {bad.kind}: {bad.detail}"
