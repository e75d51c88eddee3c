"""Each scripted fault surfaces as the SDK's own exception, as the real failure would."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from thinllm.testing import FakeVendor, Fault

CLAUDE = "claude-sonnet-5-5"
GPT = "gpt-6.1-terra"
USER: Any = [{"role": "user", "content": "Hello there"}]


def _claude_call(client: anthropic.Anthropic) -> Any:
    return client.messages.create(model=CLAUDE, max_tokens=16, messages=USER)


def _chat_call(client: openai.OpenAI) -> Any:
    return client.chat.completions.create(model=GPT, messages=USER)


def _responses_call(client: openai.OpenAI) -> Any:
    return client.responses.create(model=GPT, input="Hello there")


ANTHROPIC_FAULTS = [
    pytest.param(Fault.rate_limited(), anthropic.RateLimitError, id="rate_limited"),
    pytest.param(Fault.overloaded(), anthropic.OverloadedError, id="overloaded"),
    pytest.param(Fault.server_error(), anthropic.InternalServerError, id="server_error"),
    pytest.param(Fault.server_error(503), anthropic.ServiceUnavailableError, id="server_error_503"),
    pytest.param(Fault.bad_request("no"), anthropic.BadRequestError, id="bad_request"),
    pytest.param(Fault.not_found(), anthropic.NotFoundError, id="not_found"),
    pytest.param(Fault.unauthorized(), anthropic.AuthenticationError, id="unauthorized"),
    pytest.param(Fault.context_too_long(), anthropic.BadRequestError, id="context_too_long"),
    pytest.param(Fault.timeout(), anthropic.APITimeoutError, id="timeout"),
    pytest.param(Fault.connection_reset(), anthropic.APIConnectionError, id="connection_reset"),
    pytest.param(Fault.stream_cut(), anthropic.APIConnectionError, id="stream_cut_non_stream"),
    pytest.param(Fault.malformed(), json.JSONDecodeError, id="malformed"),
]
OPENAI_FAULTS = [
    pytest.param(Fault.rate_limited(), openai.RateLimitError, id="rate_limited"),
    pytest.param(Fault.overloaded(), openai.InternalServerError, id="overloaded"),
    pytest.param(Fault.server_error(502), openai.InternalServerError, id="server_error"),
    pytest.param(Fault.bad_request("no"), openai.BadRequestError, id="bad_request"),
    pytest.param(Fault.not_found(), openai.NotFoundError, id="not_found"),
    pytest.param(Fault.unauthorized(), openai.AuthenticationError, id="unauthorized"),
    pytest.param(Fault.context_too_long(), openai.BadRequestError, id="context_too_long"),
    pytest.param(Fault.timeout(), openai.APITimeoutError, id="timeout"),
    pytest.param(Fault.connection_reset(), openai.APIConnectionError, id="connection_reset"),
    pytest.param(Fault.malformed(), json.JSONDecodeError, id="malformed"),
]


class TestAnthropicFaults:
    @pytest.mark.parametrize(("fault", "error"), ANTHROPIC_FAULTS)
    def test_fault_raises_sdk_error(
        self, vendor: FakeVendor, claude: anthropic.Anthropic, fault: Fault, error: type[Exception]
    ) -> None:
        """With max_retries=0 the fault surfaces as the SDK's own exception type."""
        vendor.fail(fault)
        with pytest.raises(error):
            _claude_call(claude)

    def test_error_body_is_anthropic_shaped(
        self, vendor: FakeVendor, claude: anthropic.Anthropic
    ) -> None:
        """Errors use Anthropic's envelope and carry a request-id header."""
        vendor.fail(Fault.overloaded())
        with pytest.raises(anthropic.OverloadedError) as caught:
            _claude_call(claude)
        assert caught.value.status_code == 529
        body = caught.value.body
        assert isinstance(body, dict)
        assert body["type"] == "error"
        assert body["error"] == {"type": "overloaded_error", "message": "Overloaded"}
        assert caught.value.request_id is not None
        assert caught.value.request_id == body["request_id"]

    def test_context_too_long_message(
        self, vendor: FakeVendor, claude: anthropic.Anthropic
    ) -> None:
        """Context overflow uses the real invalid_request_error with 'prompt is too long'."""
        vendor.fail(Fault.context_too_long())
        with pytest.raises(anthropic.BadRequestError, match="prompt is too long"):
            _claude_call(claude)


class TestOpenAIFaults:
    @pytest.mark.parametrize(("fault", "error"), OPENAI_FAULTS)
    @pytest.mark.parametrize("call", [_chat_call, _responses_call], ids=["chat", "responses"])
    def test_fault_raises_sdk_error(
        self,
        vendor: FakeVendor,
        gpt: openai.OpenAI,
        fault: Fault,
        error: type[Exception],
        call: Callable[[openai.OpenAI], Any],
    ) -> None:
        """With max_retries=0 the fault surfaces as the SDK's own exception type."""
        vendor.fail(fault)
        with pytest.raises(error):
            call(gpt)

    def test_context_length_code(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Context overflow carries OpenAI's context_length_exceeded code."""
        vendor.fail(Fault.context_too_long())
        with pytest.raises(openai.BadRequestError) as caught:
            _chat_call(gpt)
        assert caught.value.code == "context_length_exceeded"
        assert caught.value.param == "messages"

    def test_retry_after_headers(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """rate_limited(retry_after=, retry_after_ms=) sends both headers for the SDK to honour."""
        vendor.fail(Fault.rate_limited(retry_after=1.5, retry_after_ms=1500))
        with pytest.raises(openai.RateLimitError) as caught:
            _chat_call(gpt)
        headers = caught.value.response.headers
        assert (headers["retry-after"], headers["retry-after-ms"]) == ("1.5", "1500")
        assert caught.value.code == "rate_limit_exceeded"


class TestFaultQueue:
    def test_times_then_success(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """times=2 fails exactly the next two requests; the third is answered."""
        vendor.reply("finally")
        vendor.fail(Fault.rate_limited(), times=2)
        for _ in range(2):
            with pytest.raises(openai.RateLimitError):
                gpt.responses.create(model=GPT, input="x")
        assert gpt.responses.create(model=GPT, input="x").output_text == "finally"
        assert len(vendor.requests) == 3

    def test_faults_are_fifo(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Queued faults are used in the order they were queued."""
        vendor.fail(Fault.not_found())
        vendor.fail(Fault.unauthorized())
        with pytest.raises(openai.NotFoundError):
            _chat_call(gpt)
        with pytest.raises(openai.AuthenticationError):
            _chat_call(gpt)
        assert _chat_call(gpt).choices[0].message.content

    def test_model_and_vendor_filters(
        self, vendor: FakeVendor, claude: anthropic.Anthropic, gpt: openai.OpenAI
    ) -> None:
        """A fault aimed at one model or vendor leaves other calls alone."""
        vendor.fail(Fault.server_error(), model="other-model")
        vendor.fail(Fault.server_error(), vendor="anthropic")
        assert _chat_call(gpt).choices[0].message.content
        with pytest.raises(anthropic.InternalServerError):
            _claude_call(claude)
        with pytest.raises(openai.InternalServerError):
            gpt.chat.completions.create(model="other-model", messages=USER)

    def test_standing_fault(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """times=None fails every matching request until reset."""
        vendor.fail(Fault.overloaded(), times=None)
        for _ in range(3):
            with pytest.raises(openai.InternalServerError):
                _chat_call(gpt)
        vendor.reset()
        assert _chat_call(gpt).choices[0].message.content

    def test_slow_answers_after_delay(self) -> None:
        """slow(seconds) adds that delay through the injected sleep, then answers normally."""
        slept: list[float] = []
        fake = FakeVendor(latency=0.25, sleep=slept.append)
        fake.fail(Fault.slow(3.0))
        client = fake.openai(max_retries=0)
        try:
            assert _chat_call(client).choices[0].message.content
            assert _chat_call(client).choices[0].message.content
        finally:
            client.close()
        assert slept == [3.25, 0.25]

    def test_fail_needs_a_fault(self, vendor: FakeVendor) -> None:
        """Passing something other than a Fault is refused at scripting time."""
        with pytest.raises(TypeError, match="Fault"):
            vendor.fail("rate_limited")  # type: ignore[arg-type]

    def test_server_error_status_is_checked(self) -> None:
        """server_error() accepts only the 5xx statuses the vendors send."""
        with pytest.raises(ValueError, match="500"):
            Fault.server_error(418)  # type: ignore[arg-type]
