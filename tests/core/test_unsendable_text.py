"""Text UTF-8 cannot encode (surrogate code points) is refused with a clear error, unsent."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from thinllm import Client, ConfigurationError, Prompt, Route, Tool, assistant, tool_result, user
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

# What json.loads makes of a broken escape: a valid str holding a lone surrogate.
BROKEN = json.loads('"card 4111 \\ud800 ends here"')


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: user(BROKEN), id="user"),
        pytest.param(lambda: assistant(BROKEN), id="assistant"),
        pytest.param(lambda: tool_result("call_1", BROKEN), id="tool-result"),
        pytest.param(lambda: Prompt(BROKEN, messages=["hi"]), id="system"),
        pytest.param(lambda: Prompt(context=[BROKEN], messages=["hi"]), id="context"),
        pytest.param(lambda: Prompt(messages=["hi"], examples=[(BROKEN, "ok")]), id="example"),
        pytest.param(lambda: Tool("lookup", BROKEN), id="tool-description"),
        pytest.param(
            lambda: Prompt("sys", messages=["hi"]).with_messages(BROKEN), id="with-messages"
        ),
    ],
)
def test_surrogate_in_prompt_text_is_refused_when_built(build: Callable[[], object]) -> None:
    """The error names the place, the code point and the fix, and never echoes the text."""
    with pytest.raises(ConfigurationError) as info:
        build()
    message = str(info.value)
    assert "U+D800" in message and "at character 10" in message
    assert "encode('utf-8', 'replace')" in message
    assert "4111" not in message and "ends here" not in message


def test_valid_non_ascii_text_is_accepted() -> None:
    """Accents, CJK and emoji (a real pair, one code point) are ordinary text."""
    prompt = Prompt("Réponds en français. 日本語も可 😀", messages=[user("naïve café ✓")])
    assert prompt.system is not None and prompt.system.endswith("😀")


def test_surrogate_in_an_option_is_refused_and_nothing_is_sent(fake: FakeVendor) -> None:
    """A surrogate the prompt checks cannot see (here in extra=) fails as bad input:
    a ConfigurationError, no request on the wire, no second route tried, one event."""
    sink = MemorySink()
    client = Client(
        [
            Route(fake.anthropic(), model="claude-sonnet-5-5"),
            Route(fake.openai(), model="gpt-6.1-terra"),
        ],
        sinks=[sink],
    )
    with pytest.raises(ConfigurationError, match=r"route 'claude-sonnet-5-5'.*U\+D800"):
        client.complete(Prompt(messages=["hi"]), max_tokens=5, extra={"note": BROKEN})
    assert fake.requests == []
    (event,) = sink.events
    assert event.outcome == "error"
    assert [a["route"] for a in event.attempts] == ["claude-sonnet-5-5"]


@pytest.mark.parametrize("vendor", ["anthropic", "openai"])
def test_surrogate_in_a_wrapped_native_call_is_refused(fake: FakeVendor, vendor: str) -> None:
    """client.wrap(...) calls get the same clear error instead of the SDK's encode error."""
    client = Client([Route(fake.anthropic(), model="claude-sonnet-5-5")], sinks=[MemorySink()])
    messages = [{"role": "user", "content": BROKEN}]

    def call() -> object:
        if vendor == "anthropic":
            return client.wrap(fake.anthropic()).messages.create(
                model="claude-sonnet-5-5", max_tokens=5, messages=messages
            )
        return client.wrap(fake.openai()).chat.completions.create(
            model="gpt-6.1-terra", messages=messages
        )

    with pytest.raises(ConfigurationError, match="surrogate code point"):
        call()
    assert fake.requests == []
