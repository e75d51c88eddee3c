"""client.batch(): what is submitted, and the governance applied to each item first."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest
from _batch_helpers import VENDORS, FakeClock, make_client, make_route, prompts

from thinllm import (
    AIDisabledError,
    Budget,
    BudgetExceededError,
    Client,
    ConfigurationError,
    MissingTagsError,
    PIIBlockedError,
    Prompt,
    Retry,
    RoutesExhaustedError,
    Tags,
    user,
)
from thinllm.pii import Block, Pseudonymize, Redact, RouteTo
from thinllm.sinks import MemorySink
from thinllm.testing import FakeRequest, FakeVendor, Fault

EMAIL = "jane.doe@corp-mail.com"


def submitted(fake: FakeVendor) -> list[FakeRequest]:
    """Requests that reached the fake's batch or file endpoints."""
    return [r for r in fake.requests if r.api in ("batches", "files")]


def wire_items(fake: FakeVendor, vendor: str) -> list[dict[str, Any]]:
    """The items as the vendor received them: ``[{custom_id, body}]``."""
    if vendor == "anthropic":
        create = next(r for r in submitted(fake) if r.method == "POST")
        return [{"custom_id": i["custom_id"], "body": i["params"]} for i in create.body["requests"]]
    upload = next(r for r in submitted(fake) if r.api == "files")
    lines = upload.body["file"]["content"].splitlines()
    return [json.loads(line) for line in lines]


class TestSubmit:
    def test_items_are_exactly_what_render_shows(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """Each batch item carries the same request client.render() shows, keyed by its index."""
        client = make_client(fake, vendor, clock)
        batch = prompts(3)
        tags = Tags(user="alice@corp", workflow="triage")
        client.batch(batch, tags=tags, max_tokens=32)
        items = wire_items(fake, vendor)
        assert [f"item-{i}" for i in range(3)] == [i["custom_id"] for i in items]
        expected = [client.render(p, tags=tags, max_tokens=32) for p in batch]
        assert expected == [i["body"] for i in items]

    @pytest.mark.parametrize("vendor", ["openai-chat", "openai-responses"])
    def test_openai_upload_and_batch_fields(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """OpenAI gets a purpose=batch JSONL file of POST lines and a 24h batch on the right endpoint."""
        client = make_client(fake, vendor, clock)
        client.batch(prompts(2), max_tokens=16)
        endpoint = "/v1/chat/completions" if vendor == "openai-chat" else "/v1/responses"
        upload, create = submitted(fake)[:2]
        assert "batch" == upload.body["purpose"]
        assert {("POST", endpoint)} == {(i["method"], i["url"]) for i in wire_items(fake, vendor)}
        assert {"endpoint": endpoint, "completion_window": "24h"}.items() <= create.body.items()
        assert "metadata" not in create.body  # nothing on the wire beyond the user's requests

    def test_job_reports_id_route_status_and_counts(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """The returned job names the vendor's batch id, the route, a status and per-state counts."""
        fake.batch_delay = 1
        client = make_client(fake, vendor, clock)
        job = client.batch(prompts(4), max_tokens=16)
        prefix = "msgbatch_" if vendor == "anthropic" else "batch_"
        assert job.id.startswith(prefix)
        assert (VENDORS[vendor][1], "in_progress") == (job.route, job.status)
        assert (4, 4, 0) == (job.counts.total, job.counts.processing, job.counts.done)
        assert job.created_at is not None

    def test_extra_body_fields_go_into_each_item(self, fake: FakeVendor, clock: FakeClock) -> None:
        """extra= vendor fields land in every item's body (batch APIs take one body per item)."""
        client = make_client(fake, "anthropic", clock)
        client.batch(prompts(2), max_tokens=16, extra={"top_k": 5})
        assert [5, 5] == [i["body"]["top_k"] for i in wire_items(fake, "anthropic")]

    @pytest.mark.parametrize(
        ("kwargs", "needle"),
        [
            pytest.param({"output": dict}, "output=", id="output"),
            pytest.param({"extra": {"extra_headers": {"x-a": "1"}}}, "extra_headers", id="headers"),
            pytest.param({"bogus_option": 1}, "bogus_option", id="unknown-option"),
        ],
    )
    def test_unsupported_arguments_fail_before_anything_is_sent(
        self, fake: FakeVendor, clock: FakeClock, kwargs: dict[str, Any], needle: str
    ) -> None:
        """A batch argument that cannot be honoured raises before any request or event."""
        sink = MemorySink()
        client = make_client(fake, "anthropic", clock, sink)
        with pytest.raises(ConfigurationError, match=needle):
            client.batch(prompts(2), max_tokens=16, **kwargs)
        assert [] == submitted(fake)

    def test_empty_batch_is_refused(self, fake: FakeVendor, clock: FakeClock) -> None:
        """Submitting no prompts is a clear error, not an empty vendor batch."""
        client = make_client(fake, "anthropic", clock)
        with pytest.raises(ConfigurationError, match="at least one prompt"):
            client.batch([], max_tokens=16)

    def test_route_picks_the_vendor(self, fake: FakeVendor, clock: FakeClock) -> None:
        """route= submits to that route's vendor batch API instead of the primary's."""
        client = Client(
            [make_route(fake, "anthropic"), make_route(fake, "openai-chat", name="oa")],
            clock=clock,
            sleep=clock.sleep,
        )
        job = client.batch(prompts(1), route="oa", max_tokens=16)
        assert "oa" == job.route
        assert {"openai"} == {r.vendor for r in submitted(fake)}


class TestGovernance:
    def test_flag_off_submits_nothing_and_records_each_item(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """With the kill switch off nothing reaches the vendor and every item has a disabled event."""
        sink = MemorySink()
        client = make_client(fake, vendor, clock, sink, flag=lambda tags: False)
        with pytest.raises(AIDisabledError):
            client.batch(prompts(3), tags=Tags(workflow="wf"), max_tokens=16)
        assert [] == submitted(fake)
        assert ["disabled"] * 3 == [e.outcome for e in sink.events]
        assert all(e.batch and e.tags == {"workflow": "wf"} for e in sink.events)
        assert all(e.flag is not None and e.flag.endswith("=off") for e in sink.events)

    def test_missing_required_tags_submit_nothing(self, fake: FakeVendor, clock: FakeClock) -> None:
        """A batch without the client's required tags is refused whole, one blocked event per item."""
        sink = MemorySink()
        client = make_client(fake, "anthropic", clock, sink, require_tags=("cost_center",))
        with pytest.raises(MissingTagsError):
            client.batch(prompts(2), max_tokens=16)
        assert [] == submitted(fake)
        assert [("blocked", "missing_tags")] * 2 == [
            (e.outcome, e.error["type"]) for e in sink.events if e.error
        ]

    def test_used_up_budget_submits_nothing(self, fake: FakeVendor, clock: FakeClock) -> None:
        """Once a cost center's budget is spent, its batch is refused whole with blocked events."""
        sink = MemorySink()
        budget = Budget(tag="cost_center", value="cs-eu", usd="0.000001", per="day")
        client = make_client(fake, "anthropic", clock, sink, budgets=[budget])
        [spent] = client.batch(prompts(1), tags=Tags(cost_center="cs-eu"), max_tokens=16).wait()
        assert spent.cost is not None and spent.cost > 0  # batch spend counts toward the budget
        with pytest.raises(BudgetExceededError):
            client.batch(prompts(2), tags=Tags(cost_center="cs-eu"), max_tokens=16)
        assert 1 == len([r for r in submitted(fake) if r.method == "POST"])
        assert ["ok", "blocked", "blocked"] == [e.outcome for e in sink.events]

    def test_redact_changes_what_the_vendor_receives(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """Under Redact() the vendor's batch items hold placeholders, never the address."""
        seen: list[str] = []
        fake.reply(lambda req: seen.append(req.text) or "noted")
        sink = MemorySink()
        client = make_client(fake, vendor, clock, sink, pii=Redact())
        batch = [
            Prompt(system="Label.", messages=[user(f"mail {EMAIL} about {i}")]) for i in range(2)
        ]
        client.batch(batch, max_tokens=16).wait()
        assert ["mail [EMAIL_1] about 0", "mail [EMAIL_1] about 1"] == seen
        assert EMAIL not in json.dumps(wire_items(fake, vendor))
        assert all(e.pii == {"EMAIL": 1} and e.pii_action == "redact" for e in sink.events)
        assert EMAIL not in "".join(e.to_json() for e in sink.events)

    def test_pseudonyms_are_restored_in_replies(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """Under Pseudonymize() the vendor sees a pseudonym and the reply gets the real value back."""
        fake.reply(lambda req: "reply to " + req.text.split()[-1])
        client = make_client(fake, vendor, clock, pii=Pseudonymize())
        replies = client.batch([Prompt(messages=[user(f"write to {EMAIL}")])], max_tokens=16).wait()
        assert EMAIL not in json.dumps(wire_items(fake, vendor))
        assert f"reply to {EMAIL}" == replies[0].text

    def test_blocked_item_is_left_out_and_the_rest_submitted(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """Under Block() an item with PII is not submitted; it gets outcome blocked in its place."""
        fake.reply(lambda req: "ok " + req.text)
        sink = MemorySink()
        client = make_client(fake, vendor, clock, sink, pii=Block())
        batch = prompts(3)
        batch[1] = Prompt(messages=[user(f"call {EMAIL}")])
        job = client.batch(batch, max_tokens=16)
        assert ["item-0", "item-2"] == [i["custom_id"] for i in wire_items(fake, vendor)]
        assert 1 == job.counts.blocked
        replies = job.wait()
        assert ["ok", "blocked", "ok"] == [r.outcome for r in replies]
        assert ["ok q0", "", "ok q2"] == [r.text for r in replies]
        events = {e.call_id: e for e in sink.events}
        assert "pii_blocked" == events[replies[1].call_id].error["type"]
        assert 3 == len(sink.events)

    def test_every_item_blocked_raises(self, fake: FakeVendor, clock: FakeClock) -> None:
        """When PII blocks every item nothing is submitted and PIIBlockedError says so."""
        sink = MemorySink()
        client = make_client(fake, "anthropic", clock, sink, pii=Block())
        with pytest.raises(PIIBlockedError):
            client.batch([Prompt(messages=[user(f"call {EMAIL}")])] * 2, max_tokens=16)
        assert [] == submitted(fake)
        assert ["blocked", "blocked"] == [e.outcome for e in sink.events]

    def test_route_to_policy_must_allow_the_batch_route(
        self, fake: FakeVendor, clock: FakeClock
    ) -> None:
        """Under RouteTo("eu") an item with PII is not sent in a batch on another route."""
        sink = MemorySink()
        client = Client(
            [make_route(fake, "anthropic", name="us"), make_route(fake, "anthropic", name="eu")],
            sinks=[sink],
            pii=RouteTo("eu"),
            clock=clock,
            sleep=clock.sleep,
        )
        batch = [Prompt(messages=[user(f"call {EMAIL}")]), Prompt(messages=[user("no pii")])]
        replies = client.batch(batch, route="us", max_tokens=16).wait()
        assert ["blocked", "ok"] == [r.outcome for r in replies]
        assert ["item-1"] == [i["custom_id"] for i in wire_items(fake, "anthropic")]
        refused = next(e for e in sink.events if e.outcome == "blocked")
        assert "pii_route" == refused.error["type"]
        fake.reset()
        fake.reply("ok")
        assert ["ok"] == [
            r.outcome for r in client.batch(batch[:1], route="eu", max_tokens=16).wait()
        ]


class TestSubmissionFailure:
    def test_rate_limited_submission_is_retried_with_the_client_policy(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """A 429 on submission is retried after the vendor's retry-after, using the injected sleep."""
        fake.fail(Fault.rate_limited(retry_after=1.5))
        client = make_client(fake, vendor, clock)
        job = client.batch(prompts(2), max_tokens=16)
        assert 1.5 in clock.sleeps
        assert 2 == len(job.wait())

    def test_submission_that_keeps_failing_raises_chained_and_records_items(
        self, fake: FakeVendor, vendor: str, clock: FakeClock
    ) -> None:
        """If the vendor keeps failing, RoutesExhaustedError is chained to its error and each item is recorded."""
        fake.fail(Fault.server_error(500), times=None)
        sink = MemorySink()
        client = make_client(fake, vendor, clock, sink, retry=Retry(attempts=2, jitter=False))
        with pytest.raises(RoutesExhaustedError) as info:
            client.batch(prompts(3), max_tokens=16)
        assert isinstance(
            info.value.__cause__, anthropic.InternalServerError | openai.InternalServerError
        )
        assert 2 == len(info.value.attempts)
        assert ["error"] * 3 == [e.outcome for e in sink.events]
        assert all(e.batch for e in sink.events)
