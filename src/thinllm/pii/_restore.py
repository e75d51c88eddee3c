"""Putting pseudonyms back: in streamed deltas and in parsed tool-call arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._base import PIISession
    from ._session import Session

__all__ = ["PassThrough", "PseudonymRestorer", "restore_data"]


class PassThrough:
    """The restorer of a policy that sends text unchanged: emits every delta at once."""

    def feed(self, delta: str, /) -> str:
        """``delta`` itself."""
        return delta

    def flush(self) -> str:
        """Nothing is ever held back."""
        return ""


class PseudonymRestorer:
    """Restores ``<EMAIL_1>`` in a stream even when a chunk ends inside the placeholder.

    Only a tail that could still become one of the call's own pseudonyms is held back
    (``"<EM"`` is, ``"<b>"`` or ``"a < b"`` are not), so ordinary text is never delayed.
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._held = ""

    def feed(self, delta: str, /) -> str:
        """The restored text that is safe to emit now."""
        text = self._held + delta
        cut = text.rfind("<")
        if cut != -1 and self._session.could_start_pseudonym(text[cut:]):
            self._held = text[cut:]
            text = text[:cut]
        else:
            self._held = ""
        return self._session.restore(text)

    def flush(self) -> str:
        """Whatever was held back (a placeholder the stream never finished), restored."""
        text, self._held = self._held, ""
        return self._session.restore(text)


def restore_data(session: PIISession, value: object) -> object:
    """``value`` with pseudonyms restored in every string inside it (keys included).

    For tool-call arguments: parse the JSON first, then restore, so a restored value
    that needs escaping (a quote, a newline in a key block) cannot break the JSON.
    """
    if isinstance(value, str):
        return session.restore(value)
    if isinstance(value, dict):
        return {restore_data(session, k): restore_data(session, v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore_data(session, v) for v in value]
    if isinstance(value, tuple):
        return tuple(restore_data(session, v) for v in value)
    return value
