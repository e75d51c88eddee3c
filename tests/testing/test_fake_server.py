"""Server mode: the same fake over real HTTP on 127.0.0.1, started and stopped cleanly."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import anthropic
import httpx2
import openai
import pytest

from thinllm.testing import FakeVendor, Fault

CLAUDE = "claude-sonnet-5-5"
GPT = "gpt-6.1-terra"
USER: Any = [{"role": "user", "content": "Hello there"}]
TEXT = "Hello there my friend"


def _port_is_closed(base_url: str) -> bool:
    parts = urlsplit(base_url)
    with socket.socket() as probe:
        return probe.connect_ex((parts.hostname or "", parts.port or 0)) != 0


def _collect_chat(client: openai.OpenAI, into: list[str]) -> None:
    """Consume a streamed chat completion, keeping each content delta as it arrives."""
    for chunk in client.chat.completions.create(model=GPT, messages=USER, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            into.append(chunk.choices[0].delta.content)


class TestServerReplies:
    def test_both_sdks_over_http(self, vendor: FakeVendor) -> None:
        """Both SDKs get scripted replies from the real server, with or without /v1."""
        vendor.reply(TEXT)
        with vendor.serve() as base_url:
            assert base_url.startswith("http://127.0.0.1:")
            with (
                anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0) as claude,
                openai.OpenAI(api_key="k", base_url=base_url, max_retries=0) as gpt,
                openai.OpenAI(api_key="k", base_url=base_url + "/v1", max_retries=0) as gpt_v1,
            ):
                message = claude.messages.create(model=CLAUDE, max_tokens=16, messages=USER)
                chat = gpt.chat.completions.create(model=GPT, messages=USER)
                response = gpt_v1.responses.create(model=GPT, input="x")
        assert message.content[0].type == "text"
        assert (
            message.content[0].text,
            chat.choices[0].message.content,
            response.output_text,
        ) == (TEXT, TEXT, TEXT)
        assert [r.path for r in vendor.requests] == [
            "/v1/messages",
            "/chat/completions",
            "/v1/responses",
        ]

    def test_streams_over_chunked_http(self, vendor: FakeVendor) -> None:
        """All three streaming formats arrive intact over chunked transfer encoding."""
        vendor.reply(TEXT)
        with (
            vendor.serve() as base_url,
            anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0) as claude,
            openai.OpenAI(api_key="k", base_url=base_url, max_retries=0) as gpt,
        ):
            with claude.messages.stream(model=CLAUDE, max_tokens=64, messages=USER) as stream:
                anthropic_text = "".join(stream.text_stream)
            chunks = gpt.chat.completions.create(model=GPT, messages=USER, stream=True)
            chat_text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            with gpt.responses.stream(model=GPT, input="x") as rstream:
                responses_text = rstream.get_final_response().output_text
        assert (anthropic_text, chat_text, responses_text) == (TEXT, TEXT, TEXT)

    def test_async_client_over_http(self, vendor: FakeVendor) -> None:
        """Concurrent async calls over the server are all answered."""
        vendor.reply(lambda request: request.text)

        async def run(base_url: str) -> list[str | None]:
            async with openai.AsyncOpenAI(api_key="k", base_url=base_url, max_retries=0) as gpt:
                calls = [
                    gpt.chat.completions.create(
                        model=GPT, messages=[{"role": "user", "content": str(i)}]
                    )
                    for i in range(5)
                ]
                return [c.choices[0].message.content for c in await asyncio.gather(*calls)]

        with vendor.serve() as base_url:
            assert asyncio.run(run(base_url)) == ["0", "1", "2", "3", "4"]


class TestServerFaults:
    def test_timeout_stalls_past_client_timeout(self, vendor: FakeVendor) -> None:
        """A timeout fault stalls the socket until the client's own timeout fires."""
        vendor.fail(Fault.timeout())
        with (
            vendor.serve() as base_url,
            openai.OpenAI(api_key="k", base_url=base_url, max_retries=0, timeout=0.05) as gpt,
            pytest.raises(openai.APITimeoutError),
        ):
            gpt.chat.completions.create(model=GPT, messages=USER)

    def test_connection_reset(self, vendor: FakeVendor) -> None:
        """A reset closes the socket without a response: the SDK's APIConnectionError."""
        vendor.fail(Fault.connection_reset())
        with (
            vendor.serve() as base_url,
            anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0) as claude,
            pytest.raises(anthropic.APIConnectionError),
        ):
            claude.messages.create(model=CLAUDE, max_tokens=16, messages=USER)

    def test_stream_cut(self, vendor: FakeVendor) -> None:
        """A cut stream delivers n deltas over the wire, then the connection drops."""
        vendor.reply(TEXT)
        vendor.fail(Fault.stream_cut(after_chunks=2))
        received: list[str] = []
        with (
            vendor.serve() as base_url,
            openai.OpenAI(api_key="k", base_url=base_url, max_retries=0) as gpt,
        ):
            with pytest.raises(openai.APIConnectionError):
                _collect_chat(gpt, received)
            # The server keeps serving after a cut connection.
            assert gpt.chat.completions.create(model=GPT, messages=USER).choices
        assert received == ["Hello ", "there "]

    def test_status_fault_with_headers(self, vendor: FakeVendor) -> None:
        """Status faults carry their headers over HTTP."""
        vendor.fail(Fault.rate_limited(retry_after=2))
        with (
            vendor.serve() as base_url,
            anthropic.Anthropic(api_key="k", base_url=base_url, max_retries=0) as claude,
            pytest.raises(anthropic.RateLimitError) as caught,
        ):
            claude.messages.create(model=CLAUDE, max_tokens=16, messages=USER)
        assert caught.value.response.headers["retry-after"] == "2"


class TestServerLifecycle:
    def test_stops_and_frees_the_port(self, vendor: FakeVendor) -> None:
        """After the block the port is closed and no socket is left for the GC to warn about."""
        with vendor.serve() as base_url, httpx2.Client() as http:
            assert http.get(base_url + "/v1/nothing").status_code == 404
        gc.collect()
        assert _port_is_closed(base_url)

    def test_stops_with_an_idle_keepalive_client(self, vendor: FakeVendor) -> None:
        """Exiting while a client still holds a keep-alive connection does not hang."""
        with httpx2.Client() as http:
            with vendor.serve() as base_url:
                http.post(
                    base_url + "/v1/responses", json={"model": GPT, "input": "x"}
                ).raise_for_status()
            assert _port_is_closed(base_url)

    def test_stops_while_a_request_stalls(self, vendor: FakeVendor) -> None:
        """Exiting while a timeout fault stalls a request releases it instead of hanging."""
        vendor.fail(Fault.timeout())
        errors: list[BaseException] = []
        started = threading.Event()

        def stalled(base_url: str) -> None:
            with httpx2.Client(timeout=30) as http:
                started.set()
                try:
                    http.post(base_url + "/v1/responses", json={"model": GPT, "input": "x"})
                except httpx2.HTTPError as exc:
                    errors.append(exc)

        with vendor.serve() as base_url:
            worker = threading.Thread(target=stalled, args=(base_url,))
            worker.start()
            started.wait()
            while not vendor.requests:  # the server has the request once it is logged
                threading.Event().wait(0.001)
        worker.join(timeout=10)
        assert not worker.is_alive()
        assert len(errors) == 1

    def test_two_servers_get_different_ports(self, vendor: FakeVendor) -> None:
        """Each serve() picks a free port, so parallel fakes do not collide."""
        other = FakeVendor()
        with vendor.serve() as first, other.serve() as second:
            assert first != second
