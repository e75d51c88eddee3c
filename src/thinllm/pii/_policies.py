"""What to do with PII in a call: the policies a client, a workflow or a call chooses.

A policy is configuration (immutable, shared by every call); ``policy.session(tags)``
opens the per-call state. The pipeline reads ``session.action`` and ``session.routes``
(not the policy's), because :class:`ByTag` decides per call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from ._placeholders import PSEUDONYM, REDACT
from ._session import Session

if TYPE_CHECKING:
    from .._tags import Tags
    from ._base import Detector, PIIPolicy, PIISession

__all__ = ["Block", "ByTag", "Detect", "Pseudonymize", "Redact", "RouteTo"]


class _Policy:
    """Shared by the built-in policies: a detector (the built-in one by default)."""

    action = ""
    _send: str | None = None

    def __init__(self, detector: Detector | None = None) -> None:
        if detector is not None and not callable(detector):
            raise ConfigurationError(f"detector {detector!r} is not callable (text -> spans)")
        self.detector = detector
        self.routes: tuple[str, ...] = ()

    def session(self, tags: Tags, /) -> Session:
        """Open the PII state for one call."""
        from ._scrub import default_detector

        detector = self.detector if self.detector is not None else default_detector()
        return Session(detector, self.action, self.routes, send=self._send)

    def __repr__(self) -> str:
        detector = "" if self.detector is None else f"detector={self.detector!r}"
        return f"{type(self).__name__}({detector})"


class Redact(_Policy):
    """Replace every PII value with a typed, numbered placeholder: ``[EMAIL_1]``.

    The same value gets the same number within a call. Redacting redacted text changes
    nothing. The model never sees the values, and the reply is not restored.
    """

    action = "redact"
    _send = REDACT


class Pseudonymize(_Policy):
    """Send ``<EMAIL_1>``-style pseudonyms, then put the real values back in the reply.

    The map from pseudonym to value lives only in the call's session: it is never sent,
    logged or written to a sink. Sinks store the pseudonymized text.
    """

    action = "pseudonymize"
    _send = PSEUDONYM


class Detect(_Policy):
    """Send text unchanged and only count what is found (for the audit event)."""

    action = "detect"


class Block(_Policy):
    """Refuse to send a call that contains PII (the pipeline raises ``PIIBlockedError``)."""

    action = "block"


class RouteTo(_Policy):
    """Send a call containing PII only to the named routes, e.g. ``RouteTo("eu")``.

    Names are ``Route(name=...)``. The text is sent unchanged (to a route the data may
    go to); if those routes fail, the call fails rather than fall back to another route.
    """

    action = "route"

    def __init__(self, *routes: str, detector: Detector | None = None) -> None:
        super().__init__(detector)
        if not routes or not all(isinstance(r, str) and r for r in routes):
            raise ConfigurationError(
                'RouteTo needs one or more route names, e.g. RouteTo("eu"), '
                'matching Route(..., name="eu")'
            )
        self.routes = tuple(routes)

    def __repr__(self) -> str:
        args = ", ".join(repr(r) for r in self.routes)
        if self.detector is not None:
            args += f", detector={self.detector!r}"
        return f"RouteTo({args})"


class ByTag:
    """Choose the policy per call from one tag, e.g. per workflow.

    ``ByTag("workflow", {"payroll": Block(), "support": Pseudonymize()}, default=Redact())``
    uses ``Block()`` for calls tagged ``workflow="payroll"`` and ``default`` (``Redact()``
    unless given) for any other value or a missing tag. The chosen policy's session is
    returned, so ``session.action`` says what was done.
    """

    action = "by_tag"

    def __init__(
        self,
        tag: str,
        policies: Mapping[str, PIIPolicy],
        *,
        default: PIIPolicy | None = None,
    ) -> None:
        self.tag = tag
        self.policies: dict[str, PIIPolicy] = dict(policies)
        self.default: PIIPolicy = default if default is not None else Redact()
        routes: list[str] = []
        for policy in (*self.policies.values(), self.default):
            if not hasattr(policy, "session"):
                raise ConfigurationError(f"ByTag: {policy!r} is not a PII policy")
            routes.extend(r for r in policy.routes if r not in routes)
        #: Every route any of the choices may restrict a call to.
        self.routes: tuple[str, ...] = tuple(routes)

    def choose(self, tags: Tags) -> PIIPolicy:
        """The policy for a call with these tags."""
        value = tags.get(self.tag)
        return self.policies.get(value, self.default) if value is not None else self.default

    def session(self, tags: Tags, /) -> PIISession:
        """The chosen policy's session for this call."""
        return self.choose(tags).session(tags)

    def __repr__(self) -> str:
        return f"ByTag({self.tag!r}, {self.policies!r}, default={self.default!r})"
