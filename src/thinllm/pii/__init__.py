"""PII handling: find personal data and secrets, then redact, pseudonymize, route or block.

Detection::

    from thinllm.pii import BuiltinDetector, Pattern
    detect = BuiltinDetector(custom=[Pattern("EMPLOYEE_ID", r"EMP-\\d{6}")],
                             allow=["support@example.com"])
    detect("mail jane@corp.com")   # [Span(entity='EMAIL', start=5, end=18, score=1.0)]

Policies (``Client(pii=...)``, ``complete(..., pii=...)``): :class:`Redact`,
:class:`Pseudonymize`, :class:`RouteTo`, :class:`Block`, :class:`Detect`, and
:class:`ByTag` to choose one per workflow. :func:`scrub` redacts with the built-in
detector and is what keeps values out of sinks and error messages.
"""

from __future__ import annotations

from ._base import Detector, PIIPolicy, PIISession, Span, StreamRestorer
from ._detector import BuiltinDetector, Pattern, resolve_overlaps
from ._entities import BUILTIN_ENTITIES
from ._policies import Block, ByTag, Detect, Pseudonymize, Redact, RouteTo
from ._presidio import PresidioDetector
from ._restore import restore_data
from ._scrub import default_detector, scrub, scrub_secrets

__all__ = [
    "BUILTIN_ENTITIES",
    "Block",
    "BuiltinDetector",
    "ByTag",
    "Detect",
    "Detector",
    "PIIPolicy",
    "PIISession",
    "Pattern",
    "PresidioDetector",
    "Pseudonymize",
    "Redact",
    "RouteTo",
    "Span",
    "StreamRestorer",
    "default_detector",
    "resolve_overlaps",
    "restore_data",
    "scrub",
    "scrub_secrets",
]
