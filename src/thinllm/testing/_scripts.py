"""Scripted replies and queued faults, matched against incoming requests (thread-safe)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from ._faults import Fault
from ._model import FakeReply, FakeRequest

__all__ = ["ReplySpec", "Scripts"]

ReplySpec: TypeAlias = str | FakeReply | Callable[[FakeRequest], "str | FakeReply"]


@dataclass(slots=True)
class _Rule:
    """A reply or fault with the filters that select requests, and how often it applies."""

    value: object
    model: str | None
    vendor: str | None
    api: str | None
    custom_id: str | None
    remaining: int | None  # None: forever

    def matches(self, request: FakeRequest) -> bool:
        if self.custom_id != request.custom_id and (
            self.custom_id is not None or isinstance(self.value, Fault)
        ):
            # Faults aim either at HTTP requests or at one batch item; replies may
            # be narrowed to an item but otherwise apply to items too.
            return False
        return (
            (self.model is None or self.model == request.model)
            and (self.vendor is None or self.vendor == request.vendor)
            and (self.api is None or self.api == request.api)
        )


class Scripts:
    """What the fake answers: FIFO one-shot rules first, then standing rules."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._replies: list[_Rule] = []
        self._faults: list[_Rule] = []

    def clear(self) -> None:
        """Drop every scripted reply and fault."""
        with self._lock:
            self._replies.clear()
            self._faults.clear()

    def add_reply(
        self,
        reply: ReplySpec,
        *,
        model: str | None,
        vendor: str | None,
        times: int | None,
    ) -> None:
        """Script a reply; with ``times`` it is used that many times, before standing replies."""
        _check_times(times)
        with self._lock:
            if times is None:
                # A new standing reply for the same filters replaces the old one.
                self._replies = [
                    r
                    for r in self._replies
                    if r.remaining is not None or (r.model, r.vendor) != (model, vendor)
                ]
            self._replies.append(_Rule(reply, model, vendor, None, None, times))

    def add_fault(
        self,
        fault: Fault,
        *,
        times: int | None,
        model: str | None,
        vendor: str | None,
        api: str | None,
        custom_id: str | None,
    ) -> None:
        """Queue a fault for the next ``times`` matching requests (``None``: every one)."""
        if not isinstance(fault, Fault):
            raise TypeError(f"fail() takes a Fault (e.g. Fault.rate_limited()), not {fault!r}")
        _check_times(times)
        with self._lock:
            self._faults.append(_Rule(fault, model, vendor, api, custom_id, times))

    def take_fault(self, request: FakeRequest) -> Fault | None:
        """Consume and return the first queued fault that matches ``request``.

        A batch item (``request.custom_id`` set) only takes faults aimed at its id;
        an HTTP request only takes faults without a ``custom_id``.
        """
        with self._lock:
            rule = _take(self._faults, request)
        return rule.value if rule is not None else None  # type: ignore[return-value]

    def pending_faults(self) -> int:
        """How many one-shot fault uses are still queued (standing faults count once)."""
        with self._lock:
            return sum(r.remaining or 1 for r in self._faults)

    def resolve(self, request: FakeRequest) -> FakeReply | None:
        """The scripted reply for ``request``, or ``None`` when nothing was scripted."""
        with self._lock:
            rule = _take(self._replies, request, one_shot_only=True)
            if rule is None:
                standing = [r for r in self._replies if r.remaining is None and r.matches(request)]
                # Most specific first: model and vendor filters beat the catch-all default.
                standing.sort(key=lambda r: (r.model is None, r.vendor is None))
                rule = standing[0] if standing else None
        if rule is None:
            return None
        value = rule.value
        if callable(value):
            # Called outside the lock: a reply callable may inspect or script the fake.
            value = value(request)
        if isinstance(value, str):
            return FakeReply(text=value)
        if isinstance(value, FakeReply):
            return value
        raise TypeError(f"a reply callable must return str or FakeReply, not {type(value)!r}")


def _take(rules: list[_Rule], request: FakeRequest, *, one_shot_only: bool = False) -> _Rule | None:
    # Caller holds the lock. An exhausted one-shot rule leaves the list.
    for rule in rules:
        if one_shot_only and rule.remaining is None:
            continue
        if rule.matches(request):
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    rules.remove(rule)
            return rule
    return None


def _check_times(times: int | None) -> None:
    if times is not None and times < 1:
        raise ValueError(f"times must be at least 1 (or None for every request), not {times}")
