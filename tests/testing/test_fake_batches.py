"""Batch endpoints: submit, poll, fetch results, with per-item faults."""

from __future__ import annotations

import json

import anthropic
import openai
import pytest

from thinllm.testing import FakeRequest, FakeVendor, Fault

CLAUDE = "claude-haiku-4-5"
GPT = "gpt-6.1-terra"


def _anthropic_requests(*ids: str) -> list[dict[str, object]]:
    return [
        {
            "custom_id": custom_id,
            "params": {
                "model": CLAUDE,
                "max_tokens": 16,
                "messages": [{"role": "user", "content": f"ticket {custom_id}"}],
            },
        }
        for custom_id in ids
    ]


def _openai_file(client: openai.OpenAI, *ids: str, url: str = "/v1/chat/completions") -> str:
    def body(custom_id: str) -> dict[str, object]:
        if url.endswith("completions"):
            return {"model": GPT, "messages": [{"role": "user", "content": f"ticket {custom_id}"}]}
        return {"model": GPT, "input": f"ticket {custom_id}"}

    lines = "".join(
        json.dumps({"custom_id": c, "method": "POST", "url": url, "body": body(c)}) + "\n"
        for c in ids
    )
    return client.files.create(file=("batch.jsonl", lines.encode()), purpose="batch").id


class TestAnthropicBatches:
    def test_results_use_reply_scripting(
        self, vendor: FakeVendor, claude: anthropic.Anthropic
    ) -> None:
        """Each item is answered by the scripted reply, which sees the item's custom_id."""
        vendor.reply(lambda request: f"answer for {request.custom_id}")
        batch = claude.messages.batches.create(requests=_anthropic_requests("a", "b"))  # type: ignore[arg-type]
        assert batch.processing_status == "ended"
        assert batch.id.startswith("msgbatch_")
        results = {r.custom_id: r.result for r in claude.messages.batches.results(batch.id)}
        texts = {}
        for custom_id, result in results.items():
            assert result.type == "succeeded"
            block = result.message.content[0]
            assert block.type == "text"
            assert result.message.usage.service_tier == "batch"
            texts[custom_id] = block.text
        assert texts == {"a": "answer for a", "b": "answer for b"}

    def test_polls_until_done(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """With batch_delay=2 the batch is in progress for two polls, then ended."""
        vendor.batch_delay = 2
        batch = claude.messages.batches.create(requests=_anthropic_requests("a"))  # type: ignore[arg-type]
        states = [claude.messages.batches.retrieve(batch.id).processing_status for _ in range(3)]
        assert states == ["in_progress", "ended", "ended"]
        final = claude.messages.batches.retrieve(batch.id)
        assert final.request_counts.succeeded == 1
        assert final.results_url is not None

    def test_item_fault_errors_that_item(
        self, vendor: FakeVendor, claude: anthropic.Anthropic
    ) -> None:
        """A fault aimed at one custom_id errors that item only, with the vendor's error type."""
        vendor.fail(Fault.overloaded(), custom_id="b")
        batch = claude.messages.batches.create(requests=_anthropic_requests("a", "b"))  # type: ignore[arg-type]
        results = {r.custom_id: r.result for r in claude.messages.batches.results(batch.id)}
        assert results["a"].type == "succeeded"
        errored = results["b"]
        assert errored.type == "errored"
        assert errored.error.error.type == "overloaded_error"
        assert (
            claude.messages.batches.retrieve(batch.id).request_counts.succeeded,
            claude.messages.batches.retrieve(batch.id).request_counts.errored,
        ) == (1, 1)

    def test_invalid_item_errors(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """An item whose params the API would reject comes back errored."""
        requests = _anthropic_requests("a")
        del requests[0]["params"]["max_tokens"]  # type: ignore[attr-defined]
        batch = claude.messages.batches.create(requests=requests)  # type: ignore[arg-type]
        [result] = list(claude.messages.batches.results(batch.id))
        assert result.result.type == "errored"
        assert result.result.error.error.type == "invalid_request_error"

    def test_cancel(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """Cancelling an in-progress batch ends it with canceled items."""
        vendor.batch_delay = 5
        batch = claude.messages.batches.create(requests=_anthropic_requests("a"))  # type: ignore[arg-type]
        assert claude.messages.batches.cancel(batch.id).processing_status == "canceling"
        assert claude.messages.batches.retrieve(batch.id).processing_status == "ended"
        [result] = list(claude.messages.batches.results(batch.id))
        assert result.result.type == "canceled"

    def test_unknown_batch(self, claude: anthropic.Anthropic) -> None:
        """Retrieving an unknown id is the SDK's NotFoundError."""
        with pytest.raises(anthropic.NotFoundError):
            claude.messages.batches.retrieve("msgbatch_nope")

    def test_batch_request_is_logged(self, vendor: FakeVendor, claude: anthropic.Anthropic) -> None:
        """The create call is logged with api 'batches' and its full body."""
        claude.messages.batches.create(requests=_anthropic_requests("a"))  # type: ignore[arg-type]
        request: FakeRequest = vendor.requests[0]
        assert (request.vendor, request.api, request.method) == ("anthropic", "batches", "POST")
        assert request.body["requests"][0]["custom_id"] == "a"

    def test_results_over_http(self, vendor: FakeVendor) -> None:
        """results_url points at the server, so results() works in server mode too."""
        with (
            vendor.serve() as base_url,
            anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0) as claude,
        ):
            batch = claude.messages.batches.create(requests=_anthropic_requests("a"))  # type: ignore[arg-type]
            assert [r.custom_id for r in claude.messages.batches.results(batch.id)] == ["a"]


class TestOpenAIBatches:
    def test_chat_batch_round_trip(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Upload, create, poll and download: output lines carry ChatCompletion bodies."""
        vendor.reply(lambda request: f"answer for {request.custom_id}")
        vendor.batch_delay = 1
        file_id = _openai_file(gpt, "x", "y")
        batch = gpt.batches.create(
            input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        assert batch.status == "in_progress"
        batch = gpt.batches.retrieve(batch.id)
        assert batch.status == "completed"
        assert batch.request_counts is not None
        assert (
            batch.request_counts.total,
            batch.request_counts.completed,
            batch.request_counts.failed,
        ) == (2, 2, 0)
        assert batch.output_file_id is not None
        lines = [json.loads(x) for x in gpt.files.content(batch.output_file_id).text.splitlines()]
        answers = {
            line["custom_id"]: line["response"]["body"]["choices"][0]["message"]["content"]
            for line in lines
        }
        assert answers == {"x": "answer for x", "y": "answer for y"}
        assert batch.usage is not None
        assert batch.usage.input_tokens > 0

    def test_item_fault_goes_to_error_file(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """A fault aimed at a custom_id puts that item in the error file with its status."""
        vendor.fail(Fault.bad_request("bad item"), custom_id="y")
        batch = gpt.batches.create(
            input_file_id=_openai_file(gpt, "x", "y"),
            endpoint="/v1/chat/completions",
            completion_window="24h",
        )
        assert batch.error_file_id is not None
        [line] = [json.loads(x) for x in gpt.files.content(batch.error_file_id).text.splitlines()]
        assert (
            line["custom_id"],
            line["response"]["status_code"],
            line["response"]["body"]["error"]["message"],
        ) == ("y", 400, "bad item")

    def test_responses_batch(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """A /v1/responses batch returns Response bodies."""
        vendor.reply("done")
        batch = gpt.batches.create(
            input_file_id=_openai_file(gpt, "r", url="/v1/responses"),
            endpoint="/v1/responses",
            completion_window="24h",
        )
        assert batch.output_file_id is not None
        [line] = [json.loads(x) for x in gpt.files.content(batch.output_file_id).text.splitlines()]
        assert line["response"]["body"]["object"] == "response"

    def test_url_mismatch_is_rejected(self, gpt: openai.OpenAI) -> None:
        """Input lines whose url differs from the batch endpoint are a 400."""
        file_id = _openai_file(gpt, "x", url="/v1/responses")
        with pytest.raises(openai.BadRequestError):
            gpt.batches.create(
                input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
            )

    def test_file_round_trip(self, gpt: openai.OpenAI) -> None:
        """An uploaded file can be retrieved, read back and deleted."""
        file_id = _openai_file(gpt, "x")
        assert gpt.files.retrieve(file_id).purpose == "batch"
        assert '"custom_id": "x"' in gpt.files.content(file_id).text
        assert gpt.files.delete(file_id).deleted
        with pytest.raises(openai.NotFoundError):
            gpt.files.retrieve(file_id)

    def test_cancel(self, vendor: FakeVendor, gpt: openai.OpenAI) -> None:
        """Cancelling moves the batch through cancelling to cancelled."""
        vendor.batch_delay = 5
        batch = gpt.batches.create(
            input_file_id=_openai_file(gpt, "x"),
            endpoint="/v1/chat/completions",
            completion_window="24h",
        )
        assert gpt.batches.cancel(batch.id).status == "cancelling"
        assert gpt.batches.retrieve(batch.id).status == "cancelled"
