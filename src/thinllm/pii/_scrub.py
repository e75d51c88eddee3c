"""``scrub``: keep PII and secrets out of sinks and error messages, with no policy set."""

from __future__ import annotations

from functools import cache

from ._detector import BuiltinDetector
from ._placeholders import REDACT
from ._session import Session

__all__ = ["default_detector", "scrub", "scrub_secrets"]


@cache
def default_detector() -> BuiltinDetector:
    """The shared built-in detector with every entity (stateless, so safe to share)."""
    return BuiltinDetector()


@cache
def _secrets_detector() -> BuiltinDetector:
    return BuiltinDetector(entities=["SECRET"])


def scrub(text: str) -> str:
    """``text`` with every value the built-in detector finds replaced by ``[TYPE_n]``.

    Cheap when there is nothing to find (a few microseconds for a short message), so the
    pipeline can run it on everything it records or raises.
    """
    detector = default_detector()
    if not detector(text):
        return text
    return Session(detector, "redact", send=REDACT).record(text)


def scrub_secrets(text: str) -> str:
    """``text`` with API keys, tokens and private keys replaced by ``[SECRET_n]``.

    For records that keep personal data on purpose (``capture="full"``): credentials
    are never stored, whatever the capture setting.
    """
    detector = _secrets_detector()
    if not detector(text):
        return text
    return Session(detector, "redact", send=REDACT).record(text)
