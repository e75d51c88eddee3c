"""The :class:`Sink` protocol: where audit events go."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .._events import CallEvent

__all__ = ["Sink"]


@runtime_checkable
class Sink(Protocol):
    """Receives one :class:`~thinllm.CallEvent` per call.

    Any callable taking the event qualifies (``sinks=[my_function]``). A sink that
    also has ``close()`` is closed by ``Client.close()``. A sink that raises does not
    break the caller's call unless the client is ``fail_closed``.
    """

    def __call__(self, event: CallEvent, /) -> None:
        """Record ``event``. Return once it is stored as durably as the sink promises."""
