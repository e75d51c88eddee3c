"""OpenFeatureFlag: the kill switch decided by the fleet's OpenFeature provider."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider.in_memory_provider import InMemoryFlag, InMemoryProvider
from relkit import Harness

from thinllm import ConfigurationError, Tags
from thinllm.flags import OpenFeatureFlag, evaluate
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

DOMAIN = "thinllm-tests"
KEY = "support-ai.enabled"
TAGS = Tags(user="alice@corp", workflow="support-triage", cost_center="cs-eu", tenant="acme")
SWITCH = {"on": True, "off": False}


def _provide(**flags: InMemoryFlag[Any]) -> None:
    api.set_provider(InMemoryProvider(dict(flags)), domain=DOMAIN)


@pytest.fixture(autouse=True)
def _no_providers_left_behind() -> Iterator[None]:
    """OpenFeature's registry is process-global: every test ends with it empty."""
    yield
    api.clear_providers()


def _by_workflow(flag: InMemoryFlag[bool], ctx: EvaluationContext) -> FlagResolutionDetails[bool]:
    variant = "off" if ctx.attributes.get("workflow") == "payroll" else "on"
    return FlagResolutionDetails(
        value=flag.variants[variant], variant=variant, reason=Reason.TARGETING_MATCH
    )


class TestEvaluation:
    @pytest.mark.parametrize(("variant", "on"), [("on", True), ("off", False)])
    def test_provider_decides(self, variant: str, on: bool) -> None:
        """The provider's answer is the flag's answer."""
        _provide(**{KEY: InMemoryFlag(variant, SWITCH)})
        assert (on, None) == evaluate(OpenFeatureFlag(KEY, domain=DOMAIN), TAGS)

    def test_targeting_on_workflow(self) -> None:
        """One workflow can be kept on the prior path while the rest use AI."""
        _provide(**{KEY: InMemoryFlag("on", SWITCH, context_evaluator=_by_workflow)})
        flag = OpenFeatureFlag(KEY, domain=DOMAIN)
        assert flag(Tags(workflow="support-triage"))
        assert not flag(Tags(workflow="payroll"))

    def test_context_is_built_from_the_tags(self) -> None:
        """targeting_key = user; workflow, cost_center and extra tags are attributes."""
        seen: list[EvaluationContext] = []

        def capture(
            flag: InMemoryFlag[bool], ctx: EvaluationContext
        ) -> FlagResolutionDetails[bool]:
            seen.append(ctx)
            return FlagResolutionDetails(value=True, reason=Reason.TARGETING_MATCH)

        _provide(**{KEY: InMemoryFlag("on", SWITCH, context_evaluator=capture)})
        OpenFeatureFlag(KEY, domain=DOMAIN)(TAGS)
        assert 1 == len(seen)
        assert "alice@corp" == seen[0].targeting_key
        assert {"workflow": "support-triage", "cost_center": "cs-eu", "tenant": "acme"} == dict(
            seen[0].attributes
        )

    def test_untagged_call_has_no_targeting_key(self) -> None:
        """A call without tags evaluates with an empty context (the provider's default rule)."""
        seen: list[EvaluationContext] = []

        def capture(
            flag: InMemoryFlag[bool], ctx: EvaluationContext
        ) -> FlagResolutionDetails[bool]:
            seen.append(ctx)
            return FlagResolutionDetails(value=True)

        _provide(**{KEY: InMemoryFlag("on", SWITCH, context_evaluator=capture)})
        assert OpenFeatureFlag(KEY, domain=DOMAIN)(Tags())
        assert (None, {}) == (seen[0].targeting_key, dict(seen[0].attributes))

    def test_flip_takes_effect_on_the_next_evaluation(self) -> None:
        """Replacing the provider's configuration flips every later call, no restart."""
        flag = OpenFeatureFlag(KEY, domain=DOMAIN)
        _provide(**{KEY: InMemoryFlag("on", SWITCH)})
        assert flag(TAGS)
        _provide(**{KEY: InMemoryFlag("off", SWITCH)})
        assert not flag(TAGS)


class TestErrorsUseTheDefault:
    @pytest.mark.parametrize("default", [False, True])
    def test_missing_flag(self, default: bool) -> None:
        """A flag the provider does not know gives the configured default (off unless set)."""
        _provide()
        on, problem = evaluate(OpenFeatureFlag(KEY, domain=DOMAIN, default=default), TAGS)
        assert default is on
        assert "FLAG_NOT_FOUND, default used" == problem

    def test_default_is_off(self) -> None:
        """Out of the box a provider failure means off: the safe side."""
        _provide()
        assert OpenFeatureFlag(KEY, domain=DOMAIN)(TAGS) is False

    def test_wrong_type(self) -> None:
        """A string flag where a boolean is expected is an error, so the default applies."""
        _provide(**{KEY: InMemoryFlag("a", {"a": "yes"})})
        on, problem = evaluate(OpenFeatureFlag(KEY, domain=DOMAIN), TAGS)
        assert (False, "TYPE_MISMATCH, default used") == (on, problem)

    def test_provider_that_raises(self) -> None:
        """A provider blowing up mid-evaluation gives the default, never an exception."""

        def boom(flag: InMemoryFlag[bool], ctx: EvaluationContext) -> FlagResolutionDetails[bool]:
            raise RuntimeError("flag service unreachable")

        _provide(**{KEY: InMemoryFlag("on", SWITCH, context_evaluator=boom)})
        on, problem = evaluate(OpenFeatureFlag(KEY, domain=DOMAIN, default=True), TAGS)
        assert on is True
        assert problem is not None
        assert problem.endswith("default used")

    def test_no_provider_registered(self) -> None:
        """Before any provider is set the SDK's no-op provider answers with the default."""
        assert evaluate(OpenFeatureFlag(KEY, domain="nobody-registered-this"), TAGS)[0] is False

    def test_custom_client_that_raises(self) -> None:
        """Even a client object that raises (not the SDK's) ends at the default."""

        class Broken:
            def get_boolean_details(self, *args: object) -> object:
                raise ConnectionError("down")

        on, problem = evaluate(OpenFeatureFlag(KEY, client=Broken(), default=False), TAGS)
        assert (False, "ConnectionError, default used") == (on, problem)


class TestConstruction:
    def test_key_and_repr(self) -> None:
        """The audit event records .key; the repr shows how it was built."""
        flag = OpenFeatureFlag(KEY, domain=DOMAIN)
        assert KEY == flag.key == str(flag)
        assert f"OpenFeatureFlag({KEY!r}, default=False, domain={DOMAIN!r})" == repr(flag)

    def test_explicit_client(self) -> None:
        """client= takes an OpenFeature client the application already configured."""
        _provide(**{KEY: InMemoryFlag("on", SWITCH)})
        assert OpenFeatureFlag(KEY, client=api.get_client(DOMAIN))(TAGS)

    @pytest.mark.parametrize(
        ("args", "kwargs", "match"),
        [
            pytest.param(("",), {}, "key", id="empty-key"),
            pytest.param((KEY,), {"default": "off"}, "default", id="non-bool-default"),
            pytest.param((KEY,), {"client": object()}, "client", id="not-a-client"),
        ],
    )
    def test_mistakes_are_refused(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], match: str
    ) -> None:
        """Wrong arguments fail at construction with a message saying which."""
        with pytest.raises(ConfigurationError, match=match):
            OpenFeatureFlag(*args, **kwargs)

    def test_missing_sdk_is_a_clear_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without openfeature-sdk installed the error says which extra to install."""
        monkeypatch.setitem(sys.modules, "openfeature", None)
        with pytest.raises(ConfigurationError, match=r"thinllm\[openfeature\]"):
            OpenFeatureFlag(KEY)

    def test_importing_flags_does_not_import_openfeature(self) -> None:
        """import thinllm / thinllm.flags stays fast: the SDK loads only when a flag is built."""
        code = (
            "import sys, thinllm, thinllm.flags\n"
            "assert 'openfeature' not in sys.modules, 'imported eagerly'\n"
            "thinllm.flags.OpenFeatureFlag\n"
            "assert 'openfeature' not in sys.modules, 'imported on attribute access'\n"
        )
        subprocess.run([sys.executable, "-c", code], check=True)


class TestThroughTheClient:
    def test_kill_switch_in_every_mode(
        self, harness: Harness, fake: FakeVendor, sink: MemorySink
    ) -> None:
        """Flag off for payroll: that workflow falls back, others reach the vendor."""
        _provide(**{KEY: InMemoryFlag("on", SWITCH, context_evaluator=_by_workflow)})
        client = harness.client(["anthropic"], sink=sink, flag=OpenFeatureFlag(KEY, domain=DOMAIN))
        ok = harness.call(client, tags={"workflow": "support-triage"})
        off = harness.call(client, tags={"workflow": "payroll"}, fallback=lambda: "manual")
        assert ("ok", "disabled") == (ok.outcome, off.outcome)
        assert 1 == len(fake.requests)
        assert [f"{KEY}=on", f"{KEY}=off"] == [e.flag for e in sink.events]

    def test_provider_error_is_recorded(self, fake: FakeVendor, sink: MemorySink) -> None:
        """The audit event says the default was used and why (the error code only)."""
        _provide()
        harness = Harness(fake, "sync")
        try:
            client = harness.client(["openai"], sink=sink, flag=OpenFeatureFlag(KEY, domain=DOMAIN))
            reply = harness.call(client, fallback=lambda: "legacy")
        finally:
            harness.close()
        assert "disabled" == reply.outcome
        assert f"{KEY}=off (FLAG_NOT_FOUND, default used)" == sink.events[0].flag
