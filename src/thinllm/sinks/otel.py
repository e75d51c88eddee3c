"""OpenTelemetry spans and metrics per call, following the GenAI semantic conventions.

Uses ``opentelemetry-api`` only; with no SDK configured every call is a no-op. The
attribute names are written out here rather than taken from
``opentelemetry-semantic-conventions``, whose constants lag the conventions (no
``cache_write`` name yet; ``gen_ai.system`` is now ``gen_ai.provider.name``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from thinllm._events import CallEvent

__all__ = ["DURATION_BUCKETS", "TOKEN_BUCKETS", "OTelSink"]

#: Explicit bucket boundaries from the GenAI metrics conventions.
TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
                 16777216, 67108864)  # fmt: skip
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)  # fmt: skip

_OUTCOME_ERRORS = ("error", "blocked")


def _ns(ts: str) -> int | None:
    try:
        parsed = datetime.fromisoformat(ts)
    except (TypeError, ValueError):
        return None
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1_000_000) * 1000


class OTelSink:
    """Emits one CLIENT span per call, a child span per attempt, and the GenAI metrics.

    Span ``"{operation} {model}"`` with ``gen_ai.*`` attributes (operation, provider,
    request/response model, response id, finish reasons, token usage including cache
    reads and writes, ``error.type``) plus ``thinllm.*`` ones (``call_id``,
    ``outcome``, ``cost_usd``, ``route``, ``tag.<name>``). The event arrives when the
    call is over, so spans carry explicit times: the call starts at ``ts`` and lasts
    ``latency_ms``; attempts are laid end to end from the start.

    Metrics (only for calls that reached a vendor): ``gen_ai.client.token.usage``
    (``gen_ai.token.type`` input/output) and ``gen_ai.client.operation.duration`` in
    seconds, with the conventions' bucket boundaries. ``capture_content=True`` adds
    ``gen_ai.input.messages`` / ``gen_ai.output.messages`` from the event's content.
    """

    def __init__(
        self,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        *,
        capture_content: bool = False,
    ) -> None:
        from opentelemetry import metrics, trace

        self._trace = trace
        tracer_provider = tracer_provider or trace.get_tracer_provider()
        meter_provider = meter_provider or metrics.get_meter_provider()
        self._tracer = tracer_provider.get_tracer("thinllm")
        meter = meter_provider.get_meter("thinllm")
        self._tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.capture_content = capture_content

    def __call__(self, event: CallEvent, /) -> None:
        """Emit the spans and metrics for ``event``."""
        trace = self._trace
        start = _ns(event.ts)
        end = start + int(event.latency_ms * 1_000_000) if start is not None else None
        name = f"{event.operation} {event.model}" if event.model else event.operation
        span = self._tracer.start_span(
            name,
            kind=trace.SpanKind.CLIENT,
            start_time=start,
            attributes=self._call_attributes(event),
        )
        failed = event.error is not None or event.outcome in _OUTCOME_ERRORS
        if failed:
            span.set_status(trace.Status(trace.StatusCode.ERROR))
        context = trace.set_span_in_context(span)
        offset = start
        for number, attempt in enumerate(event.attempts, 1):
            offset = self._attempt_span(attempt, number, event.operation, context, offset)
        span.end(end_time=end)
        if event.provider is not None:
            self._record_metrics(event)

    def _call_attributes(self, event: CallEvent) -> dict[str, Any]:
        attrs: dict[str, Any] = {"gen_ai.operation.name": event.operation}
        optional = {
            "gen_ai.provider.name": event.provider,
            "gen_ai.request.model": event.model,
            "gen_ai.response.model": event.model,
            "gen_ai.response.id": event.response_id,
            "gen_ai.request.stream": event.stream if event.stream else None,
            "thinllm.call_id": event.call_id,
            "thinllm.outcome": event.outcome,
            "thinllm.route": event.route,
            "thinllm.cost_usd": event.cost_usd,
            "thinllm.region": event.region,
            "thinllm.flag": event.flag,
            "thinllm.prompt_hash": event.prompt_hash,
            "thinllm.pii_action": event.pii_action,
        }
        attrs.update({k: v for k, v in optional.items() if v is not None})
        if event.finish_reason:
            attrs["gen_ai.response.finish_reasons"] = (event.finish_reason,)
        usage = event.usage or {}
        for key, attr in (
            ("input_tokens", "gen_ai.usage.input_tokens"),
            ("output_tokens", "gen_ai.usage.output_tokens"),
            ("cache_read_tokens", "gen_ai.usage.cache_read.input_tokens"),
            ("cache_write_tokens", "gen_ai.usage.cache_write.input_tokens"),
        ):
            if key in usage:
                attrs[attr] = int(usage[key])
        if event.error is not None:
            attrs["error.type"] = str(event.error.get("type", "_OTHER"))
        for tag, value in (event.tags or {}).items():
            attrs[f"thinllm.tag.{tag}"] = value
        for entity, count in (event.pii or {}).items():
            attrs[f"thinllm.pii.{entity}"] = count
        if self.capture_content and event.content:
            attrs.update(_content_attributes(event.content))
        return attrs

    def _attempt_span(
        self,
        attempt: dict[str, Any],
        number: int,
        operation: str,
        context: Any,
        start: int | None,
    ) -> int | None:
        trace = self._trace
        latency = float(attempt.get("latency_ms") or 0.0)
        end = start + int(latency * 1_000_000) if start is not None else None
        attrs: dict[str, Any] = {"gen_ai.operation.name": operation, "thinllm.attempt": number}
        for key, attr in (
            ("route", "thinllm.route"),
            ("model", "gen_ai.request.model"),
            ("status", "http.response.status_code"),
            ("error", "error.type"),
            ("skipped", "thinllm.skipped"),
        ):
            if attempt.get(key) is not None:
                attrs[attr] = attempt[key]
        model = attempt.get("model")
        span = self._tracer.start_span(
            f"{operation} {model}" if model else operation,
            context=context,
            kind=trace.SpanKind.CLIENT,
            start_time=start,
            attributes=attrs,
        )
        if attempt.get("error") is not None:
            span.set_status(trace.Status(trace.StatusCode.ERROR))
        span.end(end_time=end)
        return end

    def _record_metrics(self, event: CallEvent) -> None:
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": event.operation,
            "gen_ai.provider.name": event.provider,
        }
        if event.model:
            attrs["gen_ai.request.model"] = event.model
            attrs["gen_ai.response.model"] = event.model
        if event.error is not None:
            attrs["error.type"] = str(event.error.get("type", "_OTHER"))
        self._duration.record(event.latency_ms / 1000.0, attributes=attrs)
        usage = event.usage or {}
        if event.error is None:
            for key, kind in (("input_tokens", "input"), ("output_tokens", "output")):
                if key in usage:
                    self._tokens.record(
                        int(usage[key]), attributes={**attrs, "gen_ai.token.type": kind}
                    )


def _content_attributes(content: dict[str, Any]) -> dict[str, str]:
    """Content as span attributes: the GenAI names for request and response, JSON text."""
    out: dict[str, str] = {}
    names = {"request": "gen_ai.input.messages", "response": "gen_ai.output.messages"}
    for key, value in content.items():
        attr = names.get(key, f"thinllm.content.{key}")
        out[attr] = value if isinstance(value, str) else json.dumps(value, default=str)
    return out
