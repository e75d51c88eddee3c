"""The request log shows tests exactly what their code sent, secrets masked."""

from __future__ import annotations

import json
import threading

import anthropic
import httpx2
import openai
import pytest

from thinllm.testing import FakeVendor, Fault

CLAUDE = "claude-sonnet-5-5"
GPT = "gpt-6.1-terra"


class TestRequestLog:
    def test_anthropic_request_fields(
        self, vendor: FakeVendor, claude: anthropic.Anthropic
    ) -> None:
        """A logged Anthropic call exposes vendor, api, path, model, body and texts."""
        claude.messages.create(
            model=CLAUDE,
            max_tokens=16,
            system="You triage tickets.",
            messages=[
                {"role": "user", "content": "first"},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": [{"type": "text", "text": "second"}]},
            ],
        )
        [request] = vendor.requests
        assert (
            request.vendor,
            request.api,
            request.method,
            request.path,
        ) == ("anthropic", "messages", "POST", "/v1/messages")
        assert request.model == CLAUDE
        assert request.stream is False
        assert request.text == "second"
        assert request.texts == ("You triage tickets.", "first", "ok", "second")
        assert request.body["max_tokens"] == 16
        assert request.body == json.loads(request.raw_body)

    def test_openai_requests(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Chat and Responses calls are logged with their api and last user text."""
        gpt.chat.completions.create(
            model=GPT,
            messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "chat"}],
        )
        gpt.responses.create(model=GPT, instructions="be brief", input="resp", stream=True).close()
        chat, responses = vendor.requests
        assert (
            chat.vendor,
            chat.api,
            chat.path,
            chat.text,
        ) == ("openai", "chat", "/v1/chat/completions", "chat")
        assert chat.texts == ("sys", "chat")
        assert (
            responses.api,
            responses.stream,
            responses.text,
            responses.texts,
        ) == ("responses", True, "resp", ("be brief", "resp"))

    def test_credentials_are_masked(self, vendor: FakeVendor) -> None:
        """API keys never appear in the logged headers."""
        claude = vendor.anthropic(api_key="sk-ant-secret", max_retries=0)
        gpt = vendor.openai(api_key="sk-secret", max_retries=0)
        try:
            claude.messages.create(
                model=CLAUDE, max_tokens=4, messages=[{"role": "user", "content": "x"}]
            )
            gpt.responses.create(model=GPT, input="x")
        finally:
            claude.close()
            gpt.close()
        for request in vendor.requests:
            assert request.headers["authorization"] == "Bearer ***"
        assert "secret" not in repr(vendor.requests)

    def test_x_api_key_is_masked(self, vendor: FakeVendor) -> None:
        """An x-api-key header (Anthropic's classic auth) is masked as well."""
        with httpx2.Client(transport=vendor.transport()) as http:
            http.post(
                "http://anthropic.fake/v1/messages",
                headers={"x-api-key": "sk-ant-secret"},
                json={
                    "model": CLAUDE,
                    "max_tokens": 4,
                    "messages": [{"role": "user", "content": "x"}],
                },
            )
        assert vendor.requests[0].headers["x-api-key"] == "***"

    def test_failed_requests_are_logged(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Requests answered with a fault are in the log too, in order."""
        vendor.fail(Fault.rate_limited())
        with pytest.raises(openai.RateLimitError):
            gpt.responses.create(model=GPT, input="one")
        gpt.responses.create(model=GPT, input="two")
        assert [r.text for r in vendor.requests] == ["one", "two"]

    def test_requests_is_a_snapshot(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """The returned list is a copy: mutating it does not change the fake's log."""
        gpt.responses.create(model=GPT, input="x")
        vendor.requests.clear()
        assert len(vendor.requests) == 1

    def test_concurrent_requests_all_logged(self, vendor: FakeVendor) -> None:
        """Requests from many threads are all logged, none lost."""
        client = vendor.openai(max_retries=0)

        def work(n: int) -> None:
            for i in range(10):
                client.responses.create(model=GPT, input=f"{n}-{i}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            client.close()
        texts = {r.text for r in vendor.requests}
        assert {f"{n}-{i}" for n in range(8) for i in range(10)} == texts
