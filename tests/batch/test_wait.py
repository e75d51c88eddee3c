"""Waiting for a batch: backoff on the injected sleep, timeouts, progress, async."""

from __future__ import annotations

import asyncio
import io

import pytest
from _batch_helpers import FakeClock, make_client, prompts

from thinllm import Client, ConfigurationError, Route
from thinllm._batch import BatchNotEndedError, aresume, asubmit
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestWait:
    def test_polls_with_backoff_on_the_injected_sleep(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """wait() doubles the polling interval up to max_poll and never really sleeps."""
        fake.batch_delay = 5
        client = make_client(fake, vendor, clock)
        replies = client.batch(prompts(2), max_tokens=16).wait(poll=1.0, max_poll=3.0)
        assert [1.0, 2.0, 3.0, 3.0] == clock.sleeps
        assert ["ok", "ok"] == [r.outcome for r in replies]

    def test_timeout_raises_and_the_job_stays_usable(
        self, fake: FakeVendor, clock: FakeClock
    ) -> None:
        """wait(timeout=...) gives up after that many (injected) seconds; waiting again finishes."""
        fake.batch_delay = 6
        client = make_client(fake, "anthropic", clock)
        job = client.batch(prompts(1), max_tokens=16)
        with pytest.raises(BatchNotEndedError, match="after the wait timeout"):
            job.wait(poll=2.0, timeout=5.0)
        assert 5.0 == sum(clock.sleeps)
        assert "in_progress" == job.status
        assert 1 == len(job.wait(poll=2.0))

    @pytest.mark.parametrize(
        ("poll", "max_poll", "timeout"),
        [
            pytest.param(0.0, 30.0, None, id="zero-poll"),
            pytest.param(5.0, 1.0, None, id="max-below-poll"),
            pytest.param(1.0, 30.0, -1.0, id="negative-timeout"),
        ],
    )
    def test_bad_wait_arguments(
        self,
        fake: FakeVendor,
        clock: FakeClock,
        poll: float,
        max_poll: float,
        timeout: float | None,
    ) -> None:
        """Nonsense polling settings are refused up front."""
        client = make_client(fake, "anthropic", clock)
        job = client.batch(prompts(1), max_tokens=16)
        with pytest.raises(ConfigurationError):
            job.wait(poll=poll, max_poll=max_poll, timeout=timeout)

    def test_progress_lines_in_logs_and_silence_by_default(
        self, fake: FakeVendor, clock: FakeClock, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """progress=True prints a line per change when not on a terminal; the default prints nothing there."""
        fake.batch_delay = 2
        client = make_client(fake, "anthropic", clock)
        client.batch(prompts(2), max_tokens=16).wait()
        assert "" == capsys.readouterr().err
        job = client.batch(prompts(2), max_tokens=16)
        job.wait(progress=True)
        lines = capsys.readouterr().err.splitlines()
        assert [
            f"batch {job.id}: 0/2 done, in progress",
            f"batch {job.id}: 2/2 done, ended",
        ] == lines

    def test_progress_bar_on_a_terminal(
        self, fake: FakeVendor, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """On an interactive terminal wait() redraws one bar line and ends it with a newline."""
        terminal = _Terminal()
        monkeypatch.setattr("sys.stderr", terminal)
        fake.batch_delay = 2
        client = make_client(fake, "anthropic", clock)
        client.batch(prompts(2), max_tokens=16).wait()
        out = terminal.getvalue()
        assert out.startswith("\rbatch ") and out.endswith("\n")
        assert "[------------------------] 0/2" in out
        assert "[########################] 2/2 done, ended" in out


class TestAsync:
    def test_wait_async_uses_the_injected_async_sleep(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """await job.wait_async() polls with the client's asleep and returns replies in order."""
        fake.reply(lambda req: "echo " + req.text)
        fake.batch_delay = 3
        client = make_client(fake, vendor, clock)
        job = client.batch(prompts(3), max_tokens=16)
        replies = asyncio.run(job.wait_async(poll=0.5))
        assert [0.5, 1.0] == clock.sleeps
        assert ["echo q0", "echo q1", "echo q2"] == [r.text for r in replies]

    def test_async_clients_end_to_end(self, fake: FakeVendor, clock: FakeClock) -> None:
        """With an AsyncAnthropic route the batch is submitted, awaited and audited without blocking calls."""
        fake.reply(lambda req: "echo " + req.text)
        fake.fail(Fault.server_error(500), custom_id="item-1")
        fake.batch_delay = 1
        sink = MemorySink()

        async def main() -> list[str]:
            sdk = fake.async_anthropic(max_retries=0)
            client = Client(
                [Route(sdk, model="claude-sonnet-5-5")],
                sinks=[sink],
                clock=clock,
                sleep=clock.sleep,
                asleep=clock.asleep,
            )
            job = await asubmit(
                client, prompts(2), tags=None, route=None, options={"max_tokens": 16}
            )
            with pytest.raises(ConfigurationError, match="async client"):
                job.refresh()
            replies = await job.wait_async()
            failed = await job.afailed()
            resumed = await aresume(client, job.id, route=None)
            again = await resumed.aresults()
            await sdk.close()
            assert [r.call_id for r in replies] == [r.call_id for r in again]
            return [r.outcome for r in replies] + [f.reason for f in failed]

        assert ["ok", "error", "errored"] == asyncio.run(main())
        assert [True, True] == [e.batch for e in sink.events]  # the resumed job added none

    def test_sync_batch_refuses_an_async_route(self, fake: FakeVendor, clock: FakeClock) -> None:
        """client.batch() on an async route explains what to use instead, before sending anything."""
        client = Client([Route(fake.async_anthropic(), model="claude-sonnet-5-5")], clock=clock)
        with pytest.raises(ConfigurationError, match="async client"):
            client.batch(prompts(1), max_tokens=16)
        assert [] == fake.requests
