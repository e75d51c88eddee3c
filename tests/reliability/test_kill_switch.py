"""The kill switch: a flag that turns the AI path off and hands work to the prior workflow.

Off means the vendor is never contacted; the caller's fallback runs (outcome
``disabled``) or ``AIDisabledError`` is raised; either way one audit event records it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from relkit import PROMPT, Harness

from thinllm import AIDisabledError, ConfigurationError, Retry, Tags
from thinllm.flags import EnvFlag, StaticFlag, evaluate
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor, Fault

ENV = "THINLLM_TEST_SUPPORT_AI"
TAGS = Tags(user="alice@corp", workflow="support-triage", cost_center="cs-eu")


class TestFlagOff:
    def test_fallback_runs_and_vendor_is_never_contacted(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """Off: the prior workflow answers, outcome disabled, zero requests, one event."""
        client = harness.client(["anthropic", "openai"], sink=sink, flag=StaticFlag(False, "ai"))
        reply = harness.call(client, tags=TAGS, fallback=lambda: "legacy queue #42")
        assert "disabled" == reply.outcome
        assert "legacy queue #42" == reply.value
        assert [] == reply.attempts
        assert [] == fake.requests
        assert 1 == len(sink.events)
        event = sink.events[0]
        assert ("disabled", "ai=off", None) == (event.outcome, event.flag, event.route)
        assert "disabled" == event.error["type"]  # type: ignore[index]
        assert TAGS.as_dict() == event.tags
        if harness.mode in ("stream", "astream"):
            assert ["legacy queue #42"] == harness.streamed

    def test_without_fallback_raises_ai_disabled(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """Off and no fallback: AIDisabledError naming the flag, still audited."""
        client = harness.client(["anthropic"], sink=sink, flag=EnvFlag(ENV))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(ENV, "off")
            with pytest.raises(AIDisabledError, match=ENV) as info:
                harness.call(client, tags=TAGS)
        assert ENV == info.value.flag
        assert [] == fake.requests
        assert ["disabled"] == [e.outcome for e in sink.events]
        assert f"{ENV}=off" == sink.events[0].flag

    def test_async_fallback_may_be_a_coroutine(self, fake: FakeVendor, sink: MemorySink) -> None:
        """acomplete awaits an async fallback (the prior workflow may itself be async)."""
        harness = Harness(fake, "async")
        try:
            client = harness.client(["openai"], sink=sink, flag=False)

            async def legacy() -> str:
                await asyncio.sleep(0)
                return "legacy"

            reply = harness.call(client, fallback=legacy)
            assert ("disabled", "legacy") == (reply.outcome, reply.value)
        finally:
            harness.close()

    def test_disabled_call_records_the_prompt_hash(
        self, harness: Harness, sink: MemorySink
    ) -> None:
        """A disabled call still carries the prompt hash, so audits can join it to the workflow."""
        client = harness.client(["anthropic"], sink=sink, flag=False)
        harness.call(client, fallback=lambda: "legacy")
        assert PROMPT.static_hash() == sink.events[0].prompt_hash

    def test_flag_is_recorded_when_on(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """An auditor sees which flag allowed a call, not only which refused one."""
        client = harness.client(["openai"], sink=sink, flag=StaticFlag(True, "support-ai"))
        reply = harness.call(client)
        assert "ok" == reply.outcome
        assert "support-ai=on" == sink.events[0].flag

    def test_flag_is_evaluated_once_per_call_not_per_retry(
        self, harness: Harness, fake: FakeVendor
    ) -> None:
        """Retries belong to one decision: the flag is asked once per call."""
        seen: list[Tags] = []

        def flag(tags: Tags) -> bool:
            seen.append(tags)
            return True

        client = harness.client(["anthropic"], flag=flag, retry=Retry(attempts=3))
        fake.fail(Fault.server_error(500), times=2)
        assert "ok" == harness.call(client, tags=TAGS).outcome
        assert [TAGS] == seen


class TestEnvFlag:
    @pytest.mark.parametrize("mode", ["sync", "async"])
    def test_flipping_the_environment_takes_effect_on_the_next_call(
        self,
        harness: Harness,
        fake: FakeVendor,
        sink: MemorySink,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """No restart: each call reads the variable; unset means the default (on)."""
        client = harness.client(["anthropic"], sink=sink, flag=EnvFlag(ENV))
        outcomes = []
        for value in ("1", "off", None, "TRUE", "no"):
            if value is None:
                monkeypatch.delenv(ENV, raising=False)
            else:
                monkeypatch.setenv(ENV, value)
            outcomes.append(harness.call(client, fallback=lambda: "legacy").outcome)
        assert ["ok", "disabled", "ok", "ok", "disabled"] == outcomes
        assert 3 == len(fake.requests)
        assert 5 == len(sink.events)

    @pytest.mark.parametrize(
        ("value", "on"),
        [
            pytest.param("1", True, id="1"),
            pytest.param("true", True, id="true"),
            pytest.param("YES", True, id="YES"),
            pytest.param(" on ", True, id="spaced-on"),
            pytest.param("0", False, id="0"),
            pytest.param("False", False, id="False"),
            pytest.param("no", False, id="no"),
            pytest.param("OFF", False, id="OFF"),
        ],
    )
    def test_values(self, monkeypatch: pytest.MonkeyPatch, value: str, on: bool) -> None:
        """The documented spellings, any case, surrounding spaces ignored."""
        monkeypatch.setenv(ENV, value)
        assert (on, None) == evaluate(EnvFlag(ENV), TAGS)

    @pytest.mark.parametrize("value", [None, "", "   "])
    def test_unset_or_empty_means_default(
        self, monkeypatch: pytest.MonkeyPatch, value: str | None
    ) -> None:
        """An unset variable uses default=..., so a deploy without it keeps working."""
        if value is None:
            monkeypatch.delenv(ENV, raising=False)
        else:
            monkeypatch.setenv(ENV, value)
        assert (True, None) == evaluate(EnvFlag(ENV), TAGS)
        assert (False, None) == evaluate(EnvFlag(ENV, default=False), TAGS)

    def test_unrecognised_value_is_off_and_not_recorded(
        self,
        monkeypatch: pytest.MonkeyPatch,
        fake: FakeVendor,
        sink: MemorySink,
    ) -> None:
        """A typo turns the AI path off (safe) and the event says why, without the value."""
        harness = Harness(fake, "sync")
        try:
            client = harness.client(["anthropic"], sink=sink, flag=EnvFlag(ENV))
            monkeypatch.setenv(ENV, "enabled-please")
            reply = harness.call(client, fallback=lambda: "legacy")
        finally:
            harness.close()
        assert "disabled" == reply.outcome
        flag = sink.events[0].flag
        assert flag is not None
        assert flag.startswith(f"{ENV}=off (")
        assert "unrecognised" in flag
        assert "enabled-please" not in sink.events[0].to_json()

    def test_direct_call_still_refuses_garbage(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Called by hand, EnvFlag raises a ConfigurationError naming the variable."""
        monkeypatch.setenv(ENV, "maybe")
        with pytest.raises(ConfigurationError, match=ENV):
            EnvFlag(ENV)(TAGS)


class TestBrokenFlags:
    @pytest.mark.parametrize(
        ("flag", "problem"),
        [
            pytest.param(lambda tags: 1 / 0, "ZeroDivisionError", id="raises"),
            pytest.param(lambda tags: "yes", "returned str, not bool", id="returns-str"),
            pytest.param(lambda tags: None, "returned NoneType, not bool", id="returns-none"),
        ],
    )
    def test_broken_flag_counts_as_off(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink, flag: Any, problem: str
    ) -> None:
        """A flag service that fails never fails open: off, and the event says why."""
        client = harness.client(["anthropic"], sink=sink, flag=flag)
        reply = harness.call(client, fallback=lambda: "legacy")
        assert "disabled" == reply.outcome
        assert [] == fake.requests
        assert sink.events[0].flag is not None
        assert f"({problem})" in sink.events[0].flag

    def test_non_callable_flag_is_refused(self, harness: Harness) -> None:
        """flag='yes' is a mistake caught at construction, not a silent on."""
        with pytest.raises(ConfigurationError, match="flag="):
            harness.client(["anthropic"], flag="yes")


class TestPerCallFlag:
    def test_call_flag_overrides_client_flag(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """flag= on the call wins over the client's, in both directions."""
        off_client = harness.client(["openai"], sink=sink, flag=StaticFlag(False, "global"))
        assert "ok" == harness.call(off_client, flag=True).outcome
        on_client = harness.client(["openai"], sink=sink, flag=StaticFlag(True, "global"))
        reply = harness.call(on_client, flag=StaticFlag(False, "canary"), fallback=lambda: "x")
        assert "disabled" == reply.outcome
        assert ["static=on", "canary=off"] == [e.flag for e in sink.events]
        assert 1 == len(fake.requests)

    def test_callable_flag_targets_by_tags(self, harness: Harness, fake: FakeVendor) -> None:
        """A (tags) -> bool flag can keep one workflow on the prior path."""
        client = harness.client(["anthropic"], flag=lambda tags: tags.workflow != "payroll")
        assert "ok" == harness.call(client, tags={"workflow": "support"}).outcome
        payroll = harness.call(client, tags={"workflow": "payroll"}, fallback=lambda: "manual")
        assert "disabled" == payroll.outcome
        assert 1 == len(fake.requests)


class TestWrappedNativeCalls:
    """client.wrap(vendor_client): the same flag governs the vendor's own methods."""

    @pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
    def test_anthropic_messages(
        self, fake: FakeVendor, sink: MemorySink, monkeypatch: pytest.MonkeyPatch, stream: bool
    ) -> None:
        """messages.create is refused with AIDisabledError while the flag is off."""
        harness = Harness(fake, "sync")
        try:
            client = harness.client(["anthropic"], sink=sink, flag=EnvFlag(ENV))
            wrapped = client.wrap(harness.sdk("anthropic"))
            kwargs: dict[str, Any] = {
                "model": "claude-sonnet-5-5",
                "max_tokens": 16,
                "messages": [{"role": "user", "content": "hi"}],
                "tags": TAGS,
            }
            if stream:
                kwargs["stream"] = True
            monkeypatch.setenv(ENV, "off")
            with pytest.raises(AIDisabledError):
                wrapped.messages.create(**kwargs)
            assert [] == fake.requests
            monkeypatch.setenv(ENV, "on")
            result = wrapped.messages.create(**kwargs)
            if stream:
                with result as events:
                    list(events)
            else:
                assert "ok" == result.content[0].text
            assert 1 == len(fake.requests)
        finally:
            harness.close()
        assert ["disabled", "ok"] == [e.outcome for e in sink.events]
        assert [f"{ENV}=off", f"{ENV}=on"] == [e.flag for e in sink.events]

    @pytest.mark.parametrize("api", ["chat", "responses"])
    def test_openai_async(self, fake: FakeVendor, sink: MemorySink, api: str) -> None:
        """AsyncOpenAI chat.completions.create / responses.create obey the flag too."""
        harness = Harness(fake, "async")
        try:
            client = harness.client(["openai"], sink=sink, flag=StaticFlag(False, "ai"))
            wrapped = client.wrap(harness.sdk("openai"))

            async def call() -> None:
                if api == "chat":
                    await wrapped.chat.completions.create(
                        model="gpt-6.1-terra", messages=[{"role": "user", "content": "hi"}]
                    )
                else:
                    await wrapped.responses.create(model="gpt-6.1-terra", input="hi")

            with pytest.raises(AIDisabledError):
                asyncio.run(call())
        finally:
            harness.close()
        assert [] == fake.requests
        assert ["disabled"] == [e.outcome for e in sink.events]
