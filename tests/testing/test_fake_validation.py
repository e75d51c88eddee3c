"""Requests are validated like the real APIs, so renderer bugs fail in tests, not production."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import openai
import pytest

from thinllm.testing import FakeVendor
from thinllm.testing import _anthropic_wire as anthropic_wire
from thinllm.testing import _openai_wire as openai_wire

CLAUDE = "claude-sonnet-5-5"
GPT = "gpt-6.1-terra"
USER: Any = [{"role": "user", "content": "hi"}]


class TestUnknownKeys:
    def test_anthropic_unknown_key(self, claude: anthropic.Anthropic) -> None:
        """A top-level key messages.create does not know is a 400 invalid_request_error."""
        with pytest.raises(anthropic.BadRequestError, match="temperature: Extra inputs"):
            claude.messages.create(
                model=CLAUDE, max_tokens=8, messages=USER, extra_body={"temperature": 0.2}
            )

    def test_chat_unknown_key(self, gpt: openai.OpenAI) -> None:
        """Chat rejects an unrecognised request argument."""
        with pytest.raises(openai.BadRequestError, match="Unrecognized request argument"):
            gpt.chat.completions.create(
                model=GPT, messages=USER, extra_body={"max_output_tokens": 5}
            )

    def test_responses_unknown_key(self, gpt: openai.OpenAI) -> None:
        """Responses rejects an unknown parameter with code unknown_parameter."""
        with pytest.raises(openai.BadRequestError) as caught:
            gpt.responses.create(model=GPT, input="x", extra_body={"messages": USER})
        assert (caught.value.code, caught.value.param) == ("unknown_parameter", "messages")

    def test_beta_messages_accept_beta_keys(self, claude: anthropic.Anthropic) -> None:
        """With a beta opted in, beta-only body keys are accepted; without, they are a 400."""
        message = claude.beta.messages.create(
            model=CLAUDE,
            max_tokens=8,
            messages=USER,
            context_management={"edits": []},
            betas=["context-management-2025-06-27"],
        )
        assert message.content
        with pytest.raises(anthropic.BadRequestError, match="context_management"):
            claude.beta.messages.create(
                model=CLAUDE, max_tokens=8, messages=USER, context_management={"edits": []}
            )


class TestRequiredFields:
    @pytest.mark.parametrize(
        ("body", "missing"),
        [
            pytest.param({"model": CLAUDE, "messages": USER}, "max_tokens", id="max_tokens"),
            pytest.param({"model": CLAUDE, "max_tokens": 8}, "messages", id="messages"),
            pytest.param({"messages": USER, "max_tokens": 8}, "model", id="model"),
        ],
    )
    def test_anthropic_missing_field(
        self, vendor: FakeVendor, body: dict[str, object], missing: str
    ) -> None:
        """A body without a required field gets Anthropic's 400 naming the field."""
        with httpx2.Client(transport=vendor.transport()) as http:
            response = http.post("http://anthropic.fake/v1/messages", json=body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert ("invalid_request_error", f"{missing}: Field required") == (
            error["type"],
            error["message"],
        )

    def test_chat_missing_messages(self, vendor: FakeVendor) -> None:
        """Chat without messages is a 400 missing_required_parameter."""
        with httpx2.Client(transport=vendor.transport()) as http:
            response = http.post("http://openai.fake/v1/chat/completions", json={"model": GPT})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "missing_required_parameter"

    def test_responses_missing_input(self, vendor: FakeVendor) -> None:
        """Responses without input (or a previous response) is a 400."""
        with httpx2.Client(transport=vendor.transport()) as http:
            response = http.post("http://openai.fake/v1/responses", json={"model": GPT})
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "input"

    def test_invalid_json_body(self, vendor: FakeVendor) -> None:
        """A body that is not JSON is a 400, and is still logged."""
        with httpx2.Client(transport=vendor.transport()) as http:
            response = http.post("http://openai.fake/v1/responses", content=b"{oops")
        assert response.status_code == 400
        assert vendor.requests[0].raw_body == b"{oops"

    def test_unknown_path(self, vendor: FakeVendor) -> None:
        """A path the fake does not serve is a 404 in the vendor's envelope."""
        with httpx2.Client(transport=vendor.transport()) as http:
            response = http.post("http://openai.fake/v1/embeddings", json={"model": GPT})
        assert response.status_code == 404
        assert "error" in response.json()


class TestKnownKeysMatchSDK:
    """The allowed key sets are the installed SDKs' request params; an SDK upgrade shows here."""

    @staticmethod
    def _keys(typed_dict: type) -> set[str]:
        return set(typed_dict.__annotations__) | {
            k for base in typed_dict.__mro__ for k in getattr(base, "__annotations__", {})
        }

    def test_anthropic_keys(self) -> None:
        """Anthropic messages.create body keys (minus header-only params) are accepted."""
        from anthropic.types import message_create_params

        keys = self._keys(message_create_params.MessageCreateParamsBase) | {"stream"}
        assert keys - {"user_profile_id", "workspace_id"} == set(anthropic_wire.KNOWN_KEYS)

    def test_chat_keys(self) -> None:
        """chat.completions.create body keys are accepted."""
        from openai.types.chat import completion_create_params

        keys = self._keys(completion_create_params.CompletionCreateParamsBase) | {"stream"}
        assert keys == set(openai_wire.CHAT_KEYS)

    def test_responses_keys(self) -> None:
        """responses.create body keys are accepted."""
        from openai.types.responses import response_create_params

        keys = self._keys(response_create_params.ResponseCreateParamsBase) | {"stream"}
        assert keys == set(openai_wire.RESPONSES_KEYS)
