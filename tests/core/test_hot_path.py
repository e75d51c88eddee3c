"""Shortcuts on the per-call path give the same results as the plain computation."""

from __future__ import annotations

import os
from collections import Counter, deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinllm import Prompt, Tags, assistant, user
from thinllm._cachelint import PrefixWatch
from thinllm._call import _static_clean
from thinllm._prompt import Message, Text
from thinllm.flags import EnvFlag
from thinllm.flags._base import evaluate

TAGS = Tags(user="u")


def reference_watch(calls: list[tuple[str, str]], window: int, max_distinct: int) -> list[bool]:
    """PrefixWatch's rule computed naively: warn once per workflow when the last
    ``window`` hashes of a workflow hold more than ``max_distinct`` distinct ones."""
    recent: dict[str, deque[str]] = {}
    warned: set[str] = set()
    out = []
    for workflow, prompt_hash in calls:
        if workflow in warned:
            out.append(False)
            continue
        q = recent.setdefault(workflow, deque(maxlen=window))
        q.append(prompt_hash)
        fire = len(Counter(q)) > max_distinct
        if fire:
            warned.add(workflow)
        out.append(fire)
    return out


@given(
    st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xxxxyzw")), max_size=120),
    st.integers(1, 6),
    st.integers(0, 3),
)
def test_prefix_watch_matches_the_plain_rule(
    calls: list[tuple[str, str]], window: int, max_distinct: int
) -> None:
    """The steady-workflow shortcut never changes when (or whether) the warning fires."""
    watch = PrefixWatch(window=window, max_distinct=max_distinct, log=lambda _: None)
    assert reference_watch(calls, window, max_distinct) == [watch(w, h) for w, h in calls]


def test_prefix_watch_warns_after_a_long_steady_run() -> None:
    """A workflow steady for many calls still warns as soon as its prefix starts churning."""
    logged: list[str] = []
    watch = PrefixWatch(window=20, max_distinct=3, log=logged.append)
    assert not any(watch("w", "same") for _ in range(500))
    assert [False, False, True] == [watch("w", h) for h in ("d1", "d2", "d3")]
    assert 1 == len(logged)


class TestEnvFlagRead:
    def test_a_replaced_environ_is_still_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With os.environ patched to a plain dict, the flag reads that dict."""
        monkeypatch.setattr(os, "environ", {"THINLLM_TEST_FLAG": "off"})
        assert (False, None) == evaluate(EnvFlag("THINLLM_TEST_FLAG"), TAGS)
        os.environ["THINLLM_TEST_FLAG"] = "on"
        assert (True, None) == evaluate(EnvFlag("THINLLM_TEST_FLAG"), TAGS)

    @given(
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8
        )
    )
    def test_any_value_reads_as_os_environ_get_would(self, value: str) -> None:
        """The bytes-level read gives the verdict of the value os.environ.get returns."""
        name = "THINLLM_TEST_FLAG_VALUE"
        os.environ[name] = value
        try:
            word = os.environ[name].strip().lower()
            on, problem = evaluate(EnvFlag(name), TAGS)
            assert (word in ("1", "true", "yes", "on") if word else True) == on
            known = word in ("", "1", "true", "yes", "on", "0", "false", "no", "off")
            assert (problem is None) == known
        finally:
            del os.environ[name]


class TestStaticTexts:
    def test_static_and_message_texts_are_the_prompt_texts(self) -> None:
        """Together they are exactly Prompt.texts() (what PII scanning must see)."""
        p = Prompt(
            "sys",
            context=["doc1", "doc2"],
            examples=[("q", "a")],
            messages=[user("hello"), assistant("hi")],
            tools=[{"name": "t", "description": "tool text", "parameters": {"type": "object"}}],
        )
        assert sorted(p.texts()) == sorted([*p.static_texts(), *p.message_texts()])

    def test_with_messages_keeps_the_static_texts(self) -> None:
        """A prompt rebuilt per call around a base reuses the base's static texts."""
        base = Prompt("sys", context=["doc"], messages=[user("one")])
        first = base.static_texts()
        again = base.with_messages(user("two"))
        assert again.static_texts() is first
        assert ["two"] == again.message_texts()

    def test_static_verdict_is_by_content(self) -> None:
        """The remembered verdict depends only on the texts: PII in the prefix is found."""
        assert _static_clean(("Answer politely.",))
        assert not _static_clean(("Call Jane at jane.doe@corp.example.org or +1 415 555 0100.",))


class TestReadField:
    @pytest.mark.parametrize(
        "name", ["cached_tokens", "cache_write_tokens", "audio_tokens", "no_such_field"]
    )
    def test_pydantic_models_read_as_getattr(self, name: str) -> None:
        """On an SDK model, read_field gives what getattr(obj, name, None) gives."""
        from openai.types.completion_usage import PromptTokensDetails

        from thinllm.providers._base import read_field

        details = PromptTokensDetails.model_validate({"cached_tokens": 7, "audio_tokens": 0})
        assert getattr(details, name, None) == read_field(details, name)

    def test_extra_fields_of_a_newer_api_are_read(self) -> None:
        """A field the installed SDK does not know (an extra field) is still found."""
        from openai.types.completion_usage import CompletionUsage

        from thinllm.providers._base import read_field
        from thinllm.providers.openai_chat import usage_of

        usage = CompletionUsage.model_validate(
            {
                "prompt_tokens": 100,
                "completion_tokens": 5,
                "total_tokens": 105,
                "prompt_tokens_details": {
                    "cached_tokens": 10,
                    "cache_write_tokens": 20,
                    "cache_write_tokens_details": {"ttl_12h_tokens": 4},
                },
            }
        )
        details = usage.prompt_tokens_details
        assert getattr(details, "cache_write_tokens_details", None) is not None
        ttl = read_field(details, "cache_write_tokens_details")
        assert getattr(details, "cache_write_tokens_details") == ttl  # noqa: B009
        assert (100, 5, 10, 20, 4) == tuple(
            getattr(usage_of(usage), f)
            for f in (
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_write_tokens",
                "cache_write_1h_tokens",
            )
        )  # the 12-hour writes inside the extra (dict) field are priced at the long rate

    def test_plain_objects_use_getattr(self) -> None:
        """Test doubles without pydantic: present attributes, properties, and absent ones."""
        from types import SimpleNamespace

        from thinllm.providers._base import read_field

        class WithProperty:
            @property
            def tokens(self) -> int:
                return 3

        assert 1 == read_field(SimpleNamespace(tokens=1), "tokens")
        assert read_field(SimpleNamespace(), "tokens") is None
        assert 3 == read_field(WithProperty(), "tokens")


class _PlainText(Text):
    """A Text the renderers' one-text-block shortcut does not take (``type(p) is Text``)."""

    __slots__ = ()


@given(st.sampled_from(["user", "assistant", "tool"]), st.text(max_size=30))
def test_one_text_turns_render_as_the_general_path_does(role: str, text: str) -> None:
    """OpenAI Chat and Responses render a one-text turn the same with or without the shortcut."""
    from thinllm.providers.openai_chat import _messages
    from thinllm.providers.openai_responses import _items

    fast = (Message(role, (Text(text),)),)  # type: ignore[arg-type]
    general = (Message(role, (_PlainText(text),)),)  # type: ignore[arg-type]
    assert _messages(general) == _messages(fast)
    assert _items(general) == _items(fast)
