"""Routes accept every supported vendor client and record where calls go."""

from __future__ import annotations

import anthropic
import openai
import pytest

from thinllm import Client, Prompt, Route, user
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor


class TestRouteTypes:
    @pytest.mark.parametrize(
        ("factory", "provider", "api", "region"),
        [
            pytest.param(
                lambda: anthropic.AnthropicBedrock(aws_region="eu-central-1", aws_access_key="AKIAEXAMPLE", aws_secret_key="s"),
                "aws.bedrock", "messages", "eu-central-1", id="bedrock",
            ),
            pytest.param(
                lambda: anthropic.AnthropicVertex(region="europe-west1", project_id="p", access_token="t"),
                "gcp.vertex_ai", "messages", "europe-west1", id="vertex",
            ),
            pytest.param(
                lambda: openai.AzureOpenAI(azure_endpoint="https://x.openai.azure.com", api_key="k", api_version="2026-01-01"),
                "azure.ai.openai", "chat", None, id="azure",
            ),
            pytest.param(lambda: openai.OpenAI(api_key="k", data_residency="eu"), "openai", "chat", "eu", id="openai-eu"),
            pytest.param(lambda: openai.OpenAI(api_key="k", base_url="http://127.0.0.1:9/v1"), "openai", "chat", None, id="compatible"),
            pytest.param(lambda: anthropic.AsyncAnthropic(api_key="k"), "anthropic", "messages", None, id="async-anthropic"),
        ],
    )
    def test_vendor_clients_become_routes(self, factory: object, provider: str, api: str, region: str | None) -> None:
        """Bedrock, Vertex, Azure, data-residency and compatible clients are accepted with their provider and region."""
        client = factory()  # type: ignore[operator]
        route = Route(client, model="claude-sonnet-5-5" if api == "messages" else "gpt-6.1-terra")
        assert (route.provider, route.api, route.region) == (provider, api, region)
        if not route.is_async:
            client.close()

    def test_explicit_region_and_inference_geo_default(self, fake: FakeVendor) -> None:
        """region= (or an inference_geo default) is recorded in the audit event; the default is sent."""
        sink = MemorySink()
        client = Client(
            [Route(fake.anthropic(), model="claude-sonnet-5-5", defaults={"max_tokens": 8, "inference_geo": "eu"})],
            sinks=[sink],
        )
        client.complete(Prompt(messages=[user("hi")]))
        assert fake.requests[0].body["inference_geo"] == "eu"
        assert sink.events[0].region == "eu"

    def test_users_client_is_not_modified(self, fake: FakeVendor) -> None:
        """Building a route leaves the vendor client's own settings alone."""
        vendor = fake.openai()
        route = Route(vendor, model="gpt-6.1-terra")
        assert route.sdk is not vendor
        assert (vendor.max_retries, route.sdk.max_retries) == (2, 0)


class TestPerCallRoute:
    def test_a_route_not_in_the_client_can_be_used_per_call(self, fake: FakeVendor) -> None:
        """route=Route(...) outside the client's list works and is audited like any call."""
        sink = MemorySink()
        client = Client([Route(fake.anthropic(), model="claude-sonnet-5-5")], sinks=[sink])
        other = Route(fake.openai(), model="gpt-6.1-terra", name="candidate")
        reply = client.complete(Prompt(messages=[user("hi")]), route=other, max_tokens=8)
        assert (reply.route, reply.outcome, sink.events[0].route) == ("candidate", "ok", "candidate")
        assert "candidate" in client.health()
