"""The in-process transports: latency, concurrency, direct httpx2 use, a light import."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import httpx2

from thinllm.testing import FakeVendor

GPT = "gpt-6.1-terra"
USER: Any = [{"role": "user", "content": "hi"}]


class TestLatency:
    def test_sync_latency_uses_injected_sleep(self) -> None:
        """Every sync request waits `latency` through the injected sleep, not the wall clock."""
        slept: list[float] = []
        fake = FakeVendor(latency=0.1, sleep=slept.append)
        client = fake.openai(max_retries=0)
        try:
            client.chat.completions.create(model=GPT, messages=USER)
            client.responses.create(model=GPT, input="x")
        finally:
            client.close()
        assert slept == [0.1, 0.1]

    def test_async_latency_overlaps(self) -> None:
        """Concurrent async calls wait at the same time, as they would on a network."""
        in_flight = 0
        peak = 0
        release = asyncio.Event()

        async def asleep(seconds: float) -> None:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            if peak == 5:
                release.set()
            await release.wait()
            in_flight -= 1

        fake = FakeVendor(latency=0.1, asleep=asleep)

        async def run() -> int:
            client = fake.async_openai(max_retries=0)
            try:
                calls = [client.chat.completions.create(model=GPT, messages=USER) for _ in range(5)]
                return len(await asyncio.wait_for(asyncio.gather(*calls), timeout=10))
            finally:
                await client.close()

        assert asyncio.run(run()) == 5
        assert peak == 5

    def test_latency_can_change(self) -> None:
        """latency is a settable attribute for tests that vary it mid-run."""
        slept: list[float] = []
        fake = FakeVendor(sleep=slept.append)
        fake.latency = 0.5
        with httpx2.Client(transport=fake.transport()) as http:
            http.post("http://openai.fake/v1/responses", json={"model": GPT, "input": "x"})
        assert slept == [0.5]


class TestDirectTransport:
    def test_plain_httpx2_client(self) -> None:
        """The transport works under any httpx2 client, e.g. one a user builds for the SDK."""
        fake = FakeVendor()
        fake.reply("direct")
        with httpx2.Client(transport=fake.transport()) as http:
            response = http.post(
                "http://anywhere.example/v1/chat/completions",
                json={"model": GPT, "messages": USER},
            )
        assert response.json()["choices"][0]["message"]["content"] == "direct"
        assert response.headers["x-request-id"].startswith("req_")

    def test_async_transport(self) -> None:
        """The async transport answers an httpx2.AsyncClient."""
        fake = FakeVendor()
        fake.reply("direct")

        async def run() -> str:
            async with httpx2.AsyncClient(transport=fake.async_transport()) as http:
                response = await http.post(
                    "http://anywhere.example/v1/messages",
                    json={"model": "claude-sonnet-5-5", "max_tokens": 8, "messages": USER},
                )
                return str(response.json()["content"][0]["text"])

        assert asyncio.run(run()) == "direct"


class TestImport:
    def test_import_does_not_load_vendor_sdks(self) -> None:
        """Importing thinllm.testing leaves anthropic and openai unimported until a client is asked for."""
        code = (
            "import sys, thinllm.testing; "
            "print(sorted(m for m in ('anthropic', 'openai') if m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        assert out.strip() == "[]"
