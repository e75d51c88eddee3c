"""Batch mode: eval generations go through the vendor batch API (fake vendor, real SDK HTTP
stack) at the batch rate, and are graded, cached, recorded and resumed like normal ones."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

import thinllm
from thinllm import pricing
from thinllm.cli import main
from thinllm.errors import ConfigurationError
from thinllm.evals import Eval, EvalCache, Exact, FunctionTarget, load_run, run
from thinllm.evals._batchmode import BATCH_FILE
from thinllm.sinks import MemorySink
from thinllm.testing import FakeRequest, FakeVendor, Fault

MODEL = "claude-sonnet-5-5"
CASES = [{"id": f"q{i}", "input": f"repeat {i}", "expected": str(i)} for i in range(6)]


class FakeClock:
    """A clock that only moves when the injected sleep is called (nothing really sleeps)."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0
        self.sleeps: list[float] = []
        self.broken = False

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        if self.broken:
            raise RuntimeError("connection lost while waiting")
        self.sleep(seconds)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batch records go to a fresh folder per test, never the user's cache."""
    monkeypatch.setenv("THINLLM_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def answer(request: FakeRequest) -> str:
    return request.text.split()[-1]


def make_eval(
    fake: FakeVendor, clock: FakeClock, sink: MemorySink | None = None, **kw: object
) -> Eval:
    fake.reply(answer)
    client = thinllm.Client(
        [thinllm.Route(fake.async_anthropic(), model=MODEL)],
        sinks=[sink] if sink is not None else [],
        clock=clock,
        sleep=clock.sleep,
        asleep=clock.asleep,
    )
    return Eval(
        "numbers",
        cases=CASES,
        graders=[Exact()],
        client=client,
        options={"max_tokens": 16},
        **kw,  # type: ignore[arg-type]
    )


def batch_creates(fake: FakeVendor) -> list[FakeRequest]:
    return [r for r in fake.requests if r.api == "batches" and r.method == "POST"]


def message_calls(fake: FakeVendor) -> list[FakeRequest]:
    return [r for r in fake.requests if r.api == "messages"]


class TestBatchMode:
    def test_generations_go_through_one_batch(
        self, fake: FakeVendor, clock: FakeClock, tmp_path: Path
    ) -> None:
        """Every (case, epoch) is one item of a single batch; no per-case call is made."""
        sink = MemorySink()
        result = run(make_eval(fake, clock, sink, batch=True), out=tmp_path / "r", epochs=2)
        [create] = batch_creates(fake)
        assert 12 == len(create.body["requests"])
        assert [] == message_calls(fake)
        assert 12 == len(result.records)
        assert all(r.passed and not r.from_cache and r.retries == 0 for r in result.records)
        assert 12 == len(sink.events)
        assert all(e.batch and e.tags == {"workflow": "eval:numbers"} for e in sink.events)

    def test_batch_costs_half_of_the_same_outputs_made_live(
        self, fake: FakeVendor, clock: FakeClock, tmp_path: Path
    ) -> None:
        """A batch run spends half of what the same run costs synchronously, output for output."""
        live = run(make_eval(fake, clock), out=tmp_path / "live")
        batched = run(make_eval(fake, clock, batch=True), out=tmp_path / "batch")
        assert [r.output for r in live.records] == [r.output for r in batched.records]
        assert [r.usage for r in live.records] == [r.usage for r in batched.records]
        for sync, batch in zip(live.records, batched.records, strict=True):
            assert Decimal(sync.cost_usd or "x") / 2 == Decimal(batch.cost_usd or "x")
        assert Decimal(live.summary()["cost_usd"]) / 2 == Decimal(batched.summary()["cost_usd"])

    def test_waits_with_the_clients_sleep_and_times_submission_to_collection(
        self, fake: FakeVendor, clock: FakeClock
    ) -> None:
        """Waiting for a slow batch uses the client's injected sleep; latency covers the wait."""
        fake.batch_delay = 3
        result = run(make_eval(fake, clock, batch=True))
        assert clock.sleeps
        waited_ms = sum(clock.sleeps) * 1000
        assert all(r.latency_ms == pytest.approx(waited_ms) for r in result.records)

    def test_unchanged_rerun_is_served_from_the_cache(
        self, fake: FakeVendor, clock: FakeClock, tmp_path: Path
    ) -> None:
        """A rerun sends no new batch and spends nothing; its equivalent cost is the batch price."""
        with EvalCache(tmp_path / "cache.sqlite") as cache:
            first = run(make_eval(fake, clock, batch=True), out=tmp_path / "a", cache=cache)
            sent = len(fake.requests)
            second = run(make_eval(fake, clock, batch=True), out=tmp_path / "b", cache=cache)
        assert sent == len(fake.requests)
        assert 1 == len(batch_creates(fake))
        summary = second.summary()
        assert (1.0, "0") == (summary["cache_hit_ratio"], summary["cost_usd"])
        assert first.summary()["cost_usd"] == summary["cost_equiv_usd"]

    def test_only_uncached_generations_are_batched(
        self, fake: FakeVendor, clock: FakeClock, tmp_path: Path
    ) -> None:
        """With one epoch cached, a two-epoch batch run submits only the second epoch."""
        with EvalCache(tmp_path / "cache.sqlite") as cache:
            run(make_eval(fake, clock), out=tmp_path / "a", cache=cache)
            result = run(
                make_eval(fake, clock, batch=True), out=tmp_path / "b", cache=cache, epochs=2
            )
        [create] = batch_creates(fake)
        assert 6 == len(create.body["requests"])
        assert {0} == {r.epoch for r in result.records if r.from_cache}
        assert all(r.passed for r in result.records)

    def test_failed_item_is_retried_live_and_counted_as_a_retry(
        self, fake: FakeVendor, clock: FakeClock
    ) -> None:
        """An item the batch failed is answered by one normal call, at the normal price."""
        fake.fail(Fault.server_error(), custom_id="item-3")
        batched = run(make_eval(fake, clock, batch=True))
        [retry_call] = message_calls(fake)
        assert "repeat 3" == retry_call.text
        record = next(r for r in batched.records if r.case_id == "q3")
        assert (True, 1, False) == (record.passed, record.retries, record.from_cache)
        assert record.attempts[0]["error"] is not None
        assert record.attempts[-1]["error"] is None
        price = pricing.get(MODEL)
        assert price is not None
        live = pricing.cost(thinllm.Usage(**record.usage), price)
        assert str(live) == record.cost_usd
        assert all(r.retries == 0 for r in batched.records if r.case_id != "q3")

    def test_failed_item_whose_retry_fails_is_an_error(
        self, fake: FakeVendor, clock: FakeClock
    ) -> None:
        """When the live retry of a failed item fails too, the record is an error, not a failure."""
        fake.fail(Fault.server_error(), custom_id="item-3")
        fake.fail(Fault.bad_request("nope"), api="messages")
        result = run(make_eval(fake, clock, batch=True))
        errored = [r for r in result.records if r.errored]
        assert ["q3"] == [r.case_id for r in errored]
        assert errored[0].passed is None

    def test_manifest_records_batch_mode(
        self, fake: FakeVendor, clock: FakeClock, tmp_path: Path
    ) -> None:
        """The run directory says whether generations were batched."""
        run(make_eval(fake, clock, batch=True), out=tmp_path / "b")
        run(make_eval(fake, clock), out=tmp_path / "s")
        assert json.loads((tmp_path / "b" / "manifest.json").read_text())["batch"] is True
        assert json.loads((tmp_path / "s" / "manifest.json").read_text())["batch"] is False

    def test_run_argument_overrides_the_eval(self, fake: FakeVendor, clock: FakeClock) -> None:
        """run(batch=False) makes live calls even for an eval declared with batch=True."""
        run(make_eval(fake, clock, batch=True), batch=False)
        assert [] == batch_creates(fake)
        assert 6 == len(message_calls(fake))

    def test_interrupted_wait_resumes_the_same_batch(
        self, fake: FakeVendor, clock: FakeClock, tmp_path: Path
    ) -> None:
        """A run whose wait broke records errors; running it again collects the same batch."""
        fake.batch_delay = 2
        clock.broken = True
        first = run(make_eval(fake, clock, batch=True), out=tmp_path / "r")
        assert all(r.errored for r in first.records) and first.harness_failed
        assert (tmp_path / "r" / BATCH_FILE).exists()
        clock.broken = False
        second = run(make_eval(fake, clock, batch=True), out=tmp_path / "r")
        assert 1 == len(batch_creates(fake))
        assert all(r.passed for r in second.records) and not second.harness_failed
        assert not (tmp_path / "r" / BATCH_FILE).exists()

    def test_function_target_is_refused(self) -> None:
        """Batch mode on a function target is a configuration error, before anything runs."""
        ev = Eval(
            "f",
            cases=CASES,
            graders=[Exact()],
            target=FunctionTarget(lambda p: "1", name="f"),
            batch=True,
        )
        with pytest.raises(ConfigurationError, match="batch mode"):
            run(ev)


SPEC = """
import thinllm
from thinllm.evals import Eval, Exact
from thinllm.testing import FakeVendor

fake = FakeVendor()
fake.reply(lambda request: request.text.split()[-1])
EVAL = Eval(
    "numbers",
    cases=[{"id": f"q{i}", "input": f"repeat {i}", "expected": str(i)} for i in range(4)],
    graders=[Exact()],
    routes=[thinllm.Route(fake.async_anthropic(), model="claude-sonnet-5-5")],
    options={"max_tokens": 16},
)
"""


class TestCommandLine:
    def test_batch_flag(self, tmp_path: Path) -> None:
        """`thinllm eval run --batch` records batch mode and prices every answer at the batch rate."""
        spec = tmp_path / "numbers_eval.py"
        spec.write_text(textwrap.dedent(SPEC))
        out = tmp_path / "r"
        code = main(
            ["eval", "run", str(spec), "--batch", "--out", str(out), "--epochs", "1",
             "--cache", str(tmp_path / "c.sqlite")]
        )  # fmt: skip
        assert 0 == code
        assert json.loads((out / "manifest.json").read_text())["batch"] is True
        price = pricing.get(MODEL)
        assert price is not None
        records = load_run(out).records
        assert 4 == len(records)
        for r in records:
            assert str(pricing.cost(thinllm.Usage(**r.usage), price, batch=True)) == r.cost_usd
