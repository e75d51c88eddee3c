"""A route: one vendor client (the user's own) and one model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._retry import Circuit, Retry
from .errors import ConfigurationError
from .providers import Provider, adapter_for, detect

__all__ = ["Route"]

_APIS = {"messages": ("anthropic", "aws.bedrock", "gcp.vertex_ai", "azure.ai.inference")}


class Route:
    """A vendor client the user built, the model to call on it, and its policies.

    The client is used as given (auth, proxies, base URL and region stay its business)
    except that thinllm calls it through ``with_options(max_retries=0)``: thinllm runs
    the retries, so each recorded attempt is exactly one request. The user's client
    object itself is never modified.

    ``api`` picks the wire format for OpenAI clients: ``"chat"`` (default) or
    ``"responses"``. ``defaults`` are call options applied to every call on this route
    (e.g. ``{"max_tokens": 1024, "inference_geo": "eu"}``); the call's own win.
    ``region`` is recorded in audit events (inferred for Bedrock, Vertex, Azure and
    ``inference_geo`` defaults when not given).
    """

    __slots__ = (
        "_sdk",
        "adapter",
        "api",
        "circuit",
        "client",
        "defaults",
        "is_async",
        "model",
        "name",
        "provider",
        "region",
        "retry",
    )

    def __init__(
        self,
        client: Any,
        model: str,
        *,
        name: str | None = None,
        api: str | None = None,
        retry: Retry | None = None,
        circuit: Circuit | None = None,
        region: str | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError(
                f"Route(model=...) must be a non-empty model name string, got {model!r}"
            )
        if name is not None and (not isinstance(name, str) or not name):
            raise ConfigurationError("Route(name=...) must be a non-empty string")
        if retry is not None and not isinstance(retry, Retry):
            raise ConfigurationError("Route(retry=...) takes thinllm.Retry(...)")
        if retry is not None and retry.deadline is not None:
            raise ConfigurationError(
                "a deadline bounds the whole call (every route), so it cannot be set per route: "
                "use Client(retry=Retry(deadline=...)) or complete(..., deadline=...)"
            )
        if circuit is not None and not isinstance(circuit, Circuit):
            raise ConfigurationError("Route(circuit=...) takes thinllm.Circuit(...)")
        provider, is_async, default_api = detect(client)
        api = api or default_api
        anthropic_family = provider in _APIS["messages"]
        if anthropic_family != (api == "messages"):
            raise ConfigurationError(
                f"api={api!r} does not fit a {type(client).__name__} client: Anthropic clients "
                "speak 'messages'; OpenAI clients speak 'chat' or 'responses'"
            )
        self.client = client
        self.model = model
        self.name = name or model
        self.provider = provider
        self.is_async = is_async
        self.api = api
        self.adapter: Provider = adapter_for(api)
        self.retry = retry
        self.circuit = circuit
        self.defaults = dict(defaults or {})
        self.region = region or _infer_region(client, self.defaults)
        self._sdk: Any = None

    @property
    def sdk(self) -> Any:
        """The user's client with the SDK's own retries switched off (a copy, made once)."""
        sdk = self._sdk
        if sdk is None:
            if getattr(self.client, "max_retries", None) == 0:
                sdk = self.client
            else:
                sdk = self.client.with_options(max_retries=0)
            self._sdk = sdk
        return sdk

    def __repr__(self) -> str:
        return (
            f"Route({self.name!r}, provider={self.provider!r}, model={self.model!r}, "
            f"api={self.api!r})"
        )


def _infer_region(client: Any, defaults: Mapping[str, Any]) -> str | None:
    geo = defaults.get("inference_geo")
    if isinstance(geo, str):
        return geo
    for attr in ("aws_region", "region", "_data_residency", "data_residency"):
        value = getattr(client, attr, None)
        if isinstance(value, str) and value:
            return value
    return None
