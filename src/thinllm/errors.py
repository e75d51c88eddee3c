"""Every error thinllm raises, rooted at :class:`ThinLLMError`.

::

    ThinLLMError
    ├── ConfigurationError        bad arguments, caught before anything is sent
    │   └── UnsupportedOptionError    an option the route's vendor API does not accept
    ├── MissingTagsError          a required tag is missing             (outcome "blocked")
    ├── PIIBlockedError           the PII policy refused to send        (outcome "blocked")
    ├── BudgetExceededError       a spend budget is used up             (outcome "blocked")
    ├── AIDisabledError           the kill switch is off                (outcome "disabled")
    ├── RoutesExhaustedError      every route failed; ``.attempts``     (outcome "error")
    │   └── RequestRejectedError      the vendor said the request itself is invalid (400/422)
    ├── StreamInterruptedError    a stream failed after text reached the caller
    ├── AuditWriteError           a fail-closed sink could not record the call
    ├── AuditIntegrityError       a store's hash chain is broken; purge refused
    └── OutputValidationError     structured output did not validate; ``.text`` holds it

Vendor errors are chained (``raise ... from exc``) and never swallowed. Messages say
what the caller can do next and never contain API keys or PII values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._reply import Attempt

__all__ = [
    "AIDisabledError",
    "AuditIntegrityError",
    "AuditWriteError",
    "BudgetExceededError",
    "ConfigurationError",
    "MissingTagsError",
    "OutputValidationError",
    "PIIBlockedError",
    "RequestRejectedError",
    "RoutesExhaustedError",
    "StreamInterruptedError",
    "ThinLLMError",
    "UnsupportedOptionError",
]


class ThinLLMError(Exception):
    """Root of every error thinllm raises; catch this to catch them all."""

    #: The ``error.type`` recorded in the audit event for this error.
    error_type: str = "thinllm_error"


class ConfigurationError(ThinLLMError, ValueError):
    """An argument is wrong; nothing was sent. The message says which and how to fix it."""

    error_type = "configuration"


class UnsupportedOptionError(ConfigurationError):
    """A call option the route's vendor API does not accept; nothing was sent."""

    error_type = "unsupported_option"

    def __init__(self, message: str, *, option: str, route: str) -> None:
        super().__init__(message)
        self.option = option
        self.route = route


class MissingTagsError(ThinLLMError):
    """The call lacks tags the client requires; nothing was sent."""

    error_type = "missing_tags"

    def __init__(self, missing: Sequence[str]) -> None:
        self.missing = tuple(missing)
        names = ", ".join(self.missing)
        super().__init__(
            f"missing required tags: {names}. Pass tags=Tags({names.replace(', ', '=..., ')}=...) "
            "or set them for a block of code with `with thinllm.tags(...)`."
        )


class PIIBlockedError(ThinLLMError):
    """The PII policy is ``Block()`` and the prompt contains PII; nothing was sent."""

    error_type = "pii_blocked"

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = dict(counts)
        found = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items()))
        super().__init__(
            f"the prompt contains personal data ({found}) and the PII policy blocks it. "
            "Remove it, or use thinllm.pii.Redact() / RouteTo(...) for this workflow."
        )


class BudgetExceededError(ThinLLMError):
    """A spend budget for one of the call's tags is used up; nothing was sent."""

    error_type = "budget_exceeded"

    def __init__(self, message: str, *, tag: str, value: str, spent: Any, limit: Any) -> None:
        super().__init__(message)
        self.tag = tag
        self.value = value
        self.spent = spent
        self.limit = limit


class AIDisabledError(ThinLLMError):
    """The kill switch is off for this call and no fallback was given; nothing was sent."""

    error_type = "disabled"

    def __init__(self, flag: str) -> None:
        self.flag = flag
        super().__init__(
            f"the AI path is switched off by flag {flag!r}. Pass fallback=... to hand the "
            "work to the prior workflow, or turn the flag on."
        )


class RoutesExhaustedError(ThinLLMError):
    """Every route failed and no fallback was given. ``attempts`` lists every try."""

    error_type = "routes_exhausted"

    def __init__(self, message: str, attempts: Sequence[Attempt]) -> None:
        self.attempts = list(attempts)
        super().__init__(message)


class RequestRejectedError(RoutesExhaustedError):
    """The vendor rejected the request itself (400/422): retrying would not help."""

    error_type = "request_rejected"


class StreamInterruptedError(ThinLLMError):
    """A stream failed after text had reached the caller; it is not silently restarted."""

    error_type = "stream_interrupted"

    def __init__(self, message: str, *, received: str) -> None:
        super().__init__(message)
        self.received = received


class AuditWriteError(ThinLLMError):
    """A fail-closed sink could not record the call."""

    error_type = "audit_write"


class AuditIntegrityError(ThinLLMError):
    """The audit store's hash chain does not verify, so it was left as it was.

    Raised by :meth:`~thinllm.sinks.SQLStore.purge` before deleting anything: removing
    records from a broken chain would erase the evidence. Run ``thinllm audit verify``
    to see where it breaks.
    """

    error_type = "audit_integrity"


class OutputValidationError(ThinLLMError):
    """Structured output did not validate. ``text`` is what the model returned."""

    error_type = "output_validation"

    def __init__(self, message: str, *, text: str) -> None:
        super().__init__(message)
        self.text = text
