"""Typed placeholders such as ``[EMAIL_1]`` (redaction) and ``<EMAIL_1>`` (pseudonyms).

One module owns their shape so that detection can skip them (a placeholder is never PII,
which makes redaction idempotent) and restoration can find them.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = [
    "PSEUDONYM",
    "REDACT",
    "placeholder",
    "placeholder_rx",
    "pseudonym_rx",
    "valid_entity_name",
]

#: ``[EMAIL_1]``: what a reader, a sink or an error message sees instead of a value.
REDACT = "[]"
#: ``<EMAIL_1>``: what a model sees under ``Pseudonymize()``; models copy these verbatim.
PSEUDONYM = "<>"


def placeholder(entity: str, number: int, style: str) -> str:
    """The placeholder for the ``number``-th value of ``entity`` in ``style``."""
    return f"{style[0]}{entity}_{number}{style[1]}"


def valid_entity_name(entity: str) -> bool:
    """Whether ``entity`` may name a type: upper case, so its placeholders stay recognisable."""
    return _entity_name().match(entity) is not None


@cache
def _entity_name() -> re.Pattern[str]:
    return re.compile(r"[A-Z][A-Z0-9_]*\Z")


@cache
def placeholder_rx() -> re.Pattern[str]:
    """Matches either placeholder style; groups: entity, number."""
    return re.compile(r"[\[<]([A-Z][A-Z0-9_]*)_([0-9]+)[\]>]")


@cache
def pseudonym_rx() -> re.Pattern[str]:
    """Matches a pseudonym such as ``<EMAIL_1>``; group 1 is ``EMAIL_1``."""
    return re.compile(r"<([A-Z][A-Z0-9_]*_[0-9]+)>")
