"""BatchJob results: prompt order, batch pricing, audit events, failed items, resuming by id."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from _batch_helpers import FakeClock, make_client, make_route, prompts

from thinllm import Client, ConfigurationError, Tags, ThinLLMError, pricing, tags
from thinllm._batch import BatchNotEndedError
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault


def echo(fake: FakeVendor) -> None:
    """Script the fake to answer each item with its own user text."""
    fake.reply(lambda req: "echo " + req.text)


def vendor_order(route_sdk: Any, vendor: str, job_id: str) -> list[str]:
    """The custom ids in the order the vendor hands results back."""
    if vendor == "anthropic":
        return [r.custom_id for r in route_sdk.messages.batches.results(job_id)]
    batch = route_sdk.batches.retrieve(job_id)
    text = route_sdk.files.content(batch.output_file_id).text
    return [json.loads(line)["custom_id"] for line in text.splitlines()]


class TestResults:
    def test_replies_follow_prompt_order_when_results_come_back_unordered(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """Replies line up with their prompts even when the vendor returns results in another order."""
        echo(fake)
        client = make_client(fake, vendor, clock, reverse=True)
        job = client.batch(prompts(5), max_tokens=16)
        replies = job.wait()
        assert [f"item-{i}" for i in reversed(range(5))] == vendor_order(
            client.routes[0].client, vendor, job.id
        )
        assert [f"echo q{i}" for i in range(5)] == [r.text for r in replies]

    def test_batch_price_is_the_discounted_normal_price(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """A batch reply costs (1 - batch_discount) times the same call made synchronously."""
        client = make_client(fake, vendor, clock)
        batch = prompts(1)
        [batched] = client.batch(batch, max_tokens=16).wait()
        sync = client.complete(batch[0], max_tokens=16)
        price = pricing.get(client.routes[0].model)
        assert price is not None and sync.cost is not None
        assert sync.usage == batched.usage
        assert Decimal("0.5") == price.batch_discount
        assert (1 - price.batch_discount) * sync.cost == batched.cost
        assert pricing.cost(batched.usage, price, batch=True) == batched.cost

    def test_one_event_per_item_with_its_tags_written_once(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """Each item is audited once, marked batch, with ambient and explicit tags merged."""
        sink = MemorySink()
        client = make_client(fake, vendor, clock, sink)
        with tags(cost_center="cs-eu"):
            job = client.batch(prompts(3), tags=Tags(user="bob", workflow="nightly"), max_tokens=16)
        replies = job.wait()
        job.results()
        job.failed()
        assert [r.call_id for r in replies] == [e.call_id for e in sink.events]
        assert all(e.batch and e.outcome == "ok" for e in sink.events)
        assert all(
            {"user": "bob", "workflow": "nightly", "cost_center": "cs-eu"} == e.tags
            for e in sink.events
        )
        assert [str(r.cost) for r in replies] == [e.cost_usd for e in sink.events]

    def test_failed_item_is_reported_and_rerun_synchronously(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """An errored item is an error reply, listed by failed(), and rerun_failed() answers it."""
        echo(fake)
        fake.fail(Fault.bad_request("item too odd"), custom_id="item-1")
        sink = MemorySink()
        client = make_client(fake, vendor, clock, sink)
        batch = prompts(3)
        job = client.batch(batch, tags=Tags(workflow="wf"), max_tokens=16)
        replies = job.wait()
        assert ["ok", "error", "ok"] == [r.outcome for r in replies]
        [failed] = job.failed()
        assert (1, "errored", "invalid_request_error") == (
            failed.index,
            failed.reason,
            failed.error_type,
        )
        assert batch[1] is failed.prompt
        error_event = next(e for e in sink.events if e.call_id == replies[1].call_id)
        assert ("error", "invalid_request_error", True) == (
            error_event.outcome,
            error_event.error["type"],
            error_event.batch,
        )
        [rerun] = job.rerun_failed()
        assert ("ok", "echo q1") == (rerun.outcome, rerun.text)
        rerun_event = sink.events[-1]
        assert (rerun.call_id, False, {"workflow": "wf"}) == (
            rerun_event.call_id,
            rerun_event.batch,
            rerun_event.tags,
        )
        assert 4 == len(sink.events)

    def test_cancel_ends_items_as_canceled(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """A canceled batch reports its unprocessed items as canceled failures."""
        fake.batch_delay = 10
        client = make_client(fake, vendor, clock)
        job = client.batch(prompts(2), max_tokens=16)
        job.cancel()
        replies = job.wait()
        assert "canceled" == job.status
        assert ["error", "error"] == [r.outcome for r in replies]
        assert ["canceled", "canceled"] == [f.reason for f in job.failed()]

    def test_results_before_the_end_raise(self, fake: FakeVendor, clock: FakeClock) -> None:
        """results() on a running batch says so instead of returning a partial list."""
        fake.batch_delay = 5
        client = make_client(fake, "anthropic", clock)
        job = client.batch(prompts(2), max_tokens=16)
        with pytest.raises(BatchNotEndedError, match="still in progress") as info:
            job.results()
        assert isinstance(info.value, ThinLLMError)
        assert job.id == info.value.job_id


class TestResume:
    def test_resume_in_a_new_client_keeps_order_tags_and_call_ids(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """A job resumed by id elsewhere yields ordered replies audited with the original tags and call ids."""
        echo(fake)
        fake.batch_delay = 2
        first_sink, second_sink = MemorySink(), MemorySink()
        first = make_client(fake, vendor, clock, first_sink)
        job = first.batch(prompts(3), tags=Tags(user="ann", workflow="wf"), max_tokens=16)
        submitted_ids = [i.call.call_id for i in job._items]

        second = make_client(fake, vendor, clock, second_sink)
        resumed = second.batch_job(job.id)
        replies = resumed.wait()
        assert ["echo q0", "echo q1", "echo q2"] == [r.text for r in replies]
        assert submitted_ids == [e.call_id for e in second_sink.events]
        assert all(
            {"user": "ann", "workflow": "wf"} == e.tags and e.batch for e in second_sink.events
        )
        assert all(e.cost_usd is not None for e in second_sink.events)

        again = job.results()  # the submitting process collects too: no second event
        assert [] == first_sink.events
        assert [r.text for r in replies] == [r.text for r in again]
        assert [r.cost for r in replies] == [r.cost for r in again]

    def test_rerun_after_resume_needs_the_prompts(self, fake: FakeVendor, clock: FakeClock) -> None:
        """A resumed job reruns failures only when given the prompts (thinllm never stores them)."""
        echo(fake)
        fake.fail(Fault.server_error(500), custom_id="item-0")
        client = make_client(fake, "anthropic", clock)
        batch = prompts(2)
        job_id = client.batch(batch, max_tokens=16).id
        resumed = client.batch_job(job_id)
        with pytest.raises(ConfigurationError, match="prompts="):
            resumed.rerun_failed()
        [rerun] = resumed.rerun_failed(prompts=batch)
        assert "echo q0" == rerun.text

    def test_resume_without_a_record_warns_and_still_orders(
        self,
        fake: FakeVendor,
        clock: FakeClock,
        state_dir: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Without the local record, a resumed job warns and audits with the ambient tags, in order."""
        echo(fake)
        sink = MemorySink()
        client = make_client(fake, "openai-chat", clock, sink, reverse=True)
        job_id = client.batch(prompts(3), tags=Tags(user="x"), max_tokens=16).id
        for path in state_dir.iterdir():
            path.unlink()
        with caplog.at_level(logging.WARNING, logger="thinllm"), tags(workflow="late"):
            replies = client.batch_job(job_id).results()
        assert ["echo q0", "echo q1", "echo q2"] == [r.text for r in replies]
        assert "no local record" in caplog.text
        assert all({"workflow": "late"} == e.tags for e in sink.events)

    def test_resume_picks_the_route_by_vendor(self, fake: FakeVendor, clock: FakeClock) -> None:
        """A job id is matched to the client's route for that vendor when no record names one."""
        client = Client(
            [make_route(fake, "anthropic"), make_route(fake, "openai-chat", name="oa")],
            clock=clock,
            sleep=clock.sleep,
        )
        job_id = client.batch(prompts(1), route="oa", max_tokens=16).id
        assert "oa" == client.batch_job(job_id).route

    def test_unknown_id_is_a_clear_error(self, fake: FakeVendor, clock: FakeClock) -> None:
        """Resuming an id the vendor does not know raises a thinllm error naming the 404."""
        client = make_client(fake, "anthropic", clock)
        with pytest.raises(ThinLLMError, match="404"):
            client.batch_job("msgbatch_doesnotexist")
