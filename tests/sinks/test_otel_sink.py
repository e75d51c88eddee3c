"""OTelSink: GenAI semantic-convention spans and metrics, checked with the OTel SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import opentelemetry.sdk.trace as sdk_trace
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode
from sinkkit import EventFactory

from thinllm.sinks import OTelSink
from thinllm.sinks.otel import DURATION_BUCKETS, TOKEN_BUCKETS


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = sdk_trace.TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def sink(self, **kwargs: Any) -> OTelSink:
        return OTelSink(self.tracer_provider, self.meter_provider, **kwargs)

    def metrics(self) -> dict[str, Any]:
        data = self.reader.get_metrics_data()
        if data is None:  # nothing was ever recorded
            return {}
        return {
            m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
        }


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


class TestSpans:
    def test_call_span_follows_genai_conventions(
        self, otel: Telemetry, make_event: EventFactory
    ) -> None:
        """A collector sees one CLIENT span named '{operation} {model}' with gen_ai.* attributes."""
        event = make_event(
            0,
            usage={
                "input_tokens": 1200,
                "output_tokens": 40,
                "cache_read_tokens": 1000,
                "cache_write_tokens": 100,
            },
        )
        otel.sink()(event)
        (call,) = [s for s in otel.spans.get_finished_spans() if s.parent is None]
        attrs = dict(call.attributes or {})
        assert (call.name, call.kind) == ("chat claude-sonnet-5-5", SpanKind.CLIENT)
        assert {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-sonnet-5-5",
            "gen_ai.response.model": "claude-sonnet-5-5",
            "gen_ai.response.id": "msg_0",
            "gen_ai.response.finish_reasons": ("end_turn",),
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.output_tokens": 40,
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.usage.cache_write.input_tokens": 100,
            "thinllm.call_id": event.call_id,
            "thinllm.outcome": "ok",
            "thinllm.cost_usd": "0.001290",
            "thinllm.tag.cost_center": "cs-us",
        }.items() <= attrs.items()

    def test_span_times_come_from_the_event(
        self, otel: Telemetry, make_event: EventFactory
    ) -> None:
        """The span starts at the event's ts and lasts its latency, not the time of export."""
        otel.sink()(make_event(0, ts="2026-11-10T09:00:00+00:00", latency_ms=250.0))
        (call,) = [s for s in otel.spans.get_finished_spans() if s.parent is None]
        assert call.start_time is not None
        assert call.end_time is not None
        assert (
            call.start_time,
            call.end_time - call.start_time,
        ) == (1794301200 * 10**9, 250_000_000)

    def test_attempts_are_child_spans(self, otel: Telemetry, make_event: EventFactory) -> None:
        """Retries and fallbacks appear as child spans of the one call span."""
        attempts = (
            {
                "route": "primary",
                "model": "claude-sonnet-5-5",
                "status": 529,
                "error": "overloaded_error",
                "latency_ms": 50.0,
            },
            {
                "route": "openai",
                "model": "gpt-6.1-terra",
                "status": 200,
                "error": None,
                "latency_ms": 80.0,
            },
        )
        otel.sink()(make_event(0, attempts=attempts, outcome="rerouted"))
        spans = otel.spans.get_finished_spans()
        (call,) = [s for s in spans if s.parent is None]
        children = [s for s in spans if s.parent is not None]
        assert [call.context.span_id] * 2 == [c.parent.span_id for c in children]  # type: ignore[union-attr]
        assert [c.name for c in children] == ["chat claude-sonnet-5-5", "chat gpt-6.1-terra"]
        assert children[0].status.status_code == StatusCode.ERROR
        assert (children[0].attributes or {})["error.type"] == "overloaded_error"

    def test_error_type_and_status(self, otel: Telemetry, make_event: EventFactory) -> None:
        """A failed call carries error.type and an error status."""
        otel.sink()(make_event(0, outcome="error", error={"type": "routes_exhausted"}))
        (call,) = [s for s in otel.spans.get_finished_spans() if s.parent is None]
        assert (
            (call.attributes or {})["error.type"],
            call.status.status_code,
        ) == ("routes_exhausted", StatusCode.ERROR)

    @pytest.mark.parametrize("capture", [False, True])
    def test_content_only_when_captured(
        self, otel: Telemetry, make_event: EventFactory, capture: bool
    ) -> None:
        """Prompt and response text reach the collector only with capture_content=True."""
        otel.sink(capture_content=capture)(make_event(0))
        (call,) = [s for s in otel.spans.get_finished_spans() if s.parent is None]
        attrs = dict(call.attributes or {})
        assert capture == ("gen_ai.input.messages" in attrs)
        assert capture == any("printer on fire" in str(v) for v in attrs.values())


class TestMetrics:
    def test_token_and_duration_histograms(self, otel: Telemetry, make_event: EventFactory) -> None:
        """The standard GenAI histograms get input/output tokens and seconds, with set buckets."""
        otel.sink()(make_event(0, latency_ms=640.0))
        metrics = otel.metrics()
        tokens = metrics["gen_ai.client.token.usage"].data.data_points
        by_type = {p.attributes["gen_ai.token.type"]: p for p in tokens}
        assert (by_type["input"].sum, by_type["output"].sum) == (1000, 50)
        assert tuple(float(b) for b in TOKEN_BUCKETS) == tuple(by_type["input"].explicit_bounds)
        (duration,) = metrics["gen_ai.client.operation.duration"].data.data_points
        assert (duration.sum, tuple(duration.explicit_bounds)) == (0.64, DURATION_BUCKETS)

    def test_no_metrics_for_calls_never_sent(
        self, otel: Telemetry, make_event: EventFactory
    ) -> None:
        """A call blocked before any vendor was contacted adds no vendor-operation metrics."""
        otel.sink()(make_event(0, provider=None, outcome="blocked", error={"type": "missing_tags"}))
        assert "gen_ai.client.operation.duration" not in otel.metrics()
