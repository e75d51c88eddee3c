"""``OpenFeatureFlag``: the kill switch evaluated by the fleet's OpenFeature provider.

Teams that already run LaunchDarkly, flagd or any OpenFeature provider flip one flag
and every process obeys on its next call. The OpenFeature SDK (extra ``openfeature``)
is imported when the flag is built, never by ``import thinllm.flags``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from .._tags import Tags

__all__ = ["OpenFeatureFlag"]

_MISSING = (
    "OpenFeatureFlag needs the OpenFeature SDK: pip install 'thinllm[openfeature]' "
    "(or openfeature-sdk), then register a provider with openfeature.api.set_provider(...)"
)


class OpenFeatureFlag:
    """A boolean OpenFeature flag deciding, per call, whether the AI path is on.

    The evaluation context comes from the call's tags: ``targeting_key`` is the
    ``user`` tag; ``workflow``, ``cost_center`` and every extra tag are attributes,
    so a provider can target by workflow or cost center. (The user tag reaches the
    flag provider; it is the provider's targeting key.)

    ``default`` is the answer when the provider cannot give one (not ready, flag
    missing, wrong type, provider error): off by default, so an outage hands the work
    to the prior workflow. The audit event records the flag ``key`` and, on such an
    error, the OpenFeature error code.

    ``client`` is an ``openfeature.client.OpenFeatureClient`` to use; otherwise one is
    taken from ``openfeature.api.get_client(domain)`` (providers registered later,
    or replaced at run time, are picked up on the next call).
    """

    __slots__ = ("_client", "default", "domain", "key")

    def __init__(
        self,
        key: str,
        *,
        default: bool = False,
        client: Any = None,
        domain: str | None = None,
    ) -> None:
        if not isinstance(key, str) or not key:
            raise ConfigurationError("OpenFeatureFlag(key) needs the flag key, a non-empty string")
        if not isinstance(default, bool):
            raise ConfigurationError("OpenFeatureFlag(default=...) must be True or False")
        if client is None:
            try:
                from openfeature import api
            except ImportError as exc:
                raise ConfigurationError(_MISSING) from exc
            client = api.get_client(domain)
        elif not callable(getattr(client, "get_boolean_details", None)):
            raise ConfigurationError(
                "OpenFeatureFlag(client=...) takes an OpenFeature client "
                "(openfeature.api.get_client(...))"
            )
        self.key = key
        self.default = default
        self.domain = domain
        self._client = client

    def __call__(self, tags: Tags, /) -> bool:
        """Whether the AI path is on for a call with ``tags``."""
        return self.resolve(tags)[0]

    def resolve(self, tags: Tags, /) -> tuple[bool, str | None]:
        """``(on, problem)``: ``problem`` is the OpenFeature error code when the
        provider could not answer and ``default`` was used."""
        try:
            details = self._client.get_boolean_details(self.key, self.default, context(tags))
        except Exception as exc:  # the SDK never raises, but a custom client might
            return self.default, f"{type(exc).__name__}, default used"
        error_code = getattr(details, "error_code", None)
        reason = getattr(details, "reason", None)
        if error_code is not None or str(reason) == "ERROR":
            code = getattr(error_code, "value", error_code) or "ERROR"
            return self.default, f"{code}, default used"
        value = details.value
        if not isinstance(value, bool):
            return self.default, f"returned {type(value).__name__}, default used"
        return value, None

    def __str__(self) -> str:
        return self.key

    def __repr__(self) -> str:
        domain = f", domain={self.domain!r}" if self.domain is not None else ""
        return f"OpenFeatureFlag({self.key!r}, default={self.default!r}{domain})"


def context(tags: Tags) -> Any:
    """The OpenFeature evaluation context for a call with ``tags``."""
    from openfeature.evaluation_context import EvaluationContext

    attributes: dict[str, Any] = {}
    if tags.workflow is not None:
        attributes["workflow"] = tags.workflow
    if tags.cost_center is not None:
        attributes["cost_center"] = tags.cost_center
    attributes.update(tags.extra)
    return EvaluationContext(targeting_key=tags.user, attributes=attributes)
