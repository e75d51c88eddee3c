"""Prompts hold exactly what the user wrote and refuse malformed input early."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinllm import ConfigurationError, Prompt, Tool, assistant, tool_result, user


class TestPromptValidation:
    def test_empty_prompt_is_refused(self) -> None:
        """A prompt with nothing in it fails before anything could be sent."""
        with pytest.raises(ConfigurationError, match="empty"):
            Prompt()

    def test_prompt_without_messages_is_refused(self) -> None:
        """A system text alone is not a request a vendor accepts; the error says to add a message."""
        with pytest.raises(ConfigurationError, match="no messages"):
            Prompt(system="You are terse.")

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"system": 3, "messages": ["hi"]}, id="system-not-str"),
            pytest.param({"context": [b"bytes"], "messages": ["hi"]}, id="context-bytes"),
            pytest.param({"messages": [42]}, id="message-int"),
            pytest.param({"messages": ["hi"], "examples": [("only one",)]}, id="bad-example"),
            pytest.param({"messages": ["hi"], "tools": ["lookup"]}, id="tool-str"),
            pytest.param({"messages": ["hi"], "tools": [{"description": "x"}]}, id="tool-no-name"),
            pytest.param(
                {"messages": ["hi"], "tools": [{"name": "t", "parameters": {"type": "array"}}]},
                id="tool-schema-not-object",
            ),
            pytest.param({"messages": ["hi"], "cache": "sometimes"}, id="bad-cache"),
            pytest.param({"messages": ["hi"], "cache_ttl": "2h"}, id="bad-ttl"),
        ],
    )
    def test_malformed_parts_raise_configuration_error(self, kwargs: dict[str, object]) -> None:
        """Each malformed part gets a ConfigurationError naming what is wrong."""
        with pytest.raises(ConfigurationError):
            Prompt(**kwargs)  # type: ignore[arg-type]

    def test_duplicate_tool_names_are_refused(self) -> None:
        """Two tools with one name would be ambiguous to every vendor."""
        tool = Tool("lookup", "Look up an order.")
        with pytest.raises(ConfigurationError, match="unique"):
            Prompt(messages=["hi"], tools=[tool, tool])

    def test_tool_dicts_in_vendor_shapes_are_accepted(self) -> None:
        """Anthropic-style and OpenAI-style tool dicts both become the neutral Tool."""
        schema = {"type": "object", "properties": {"id": {"type": "string"}}}
        a = Prompt(
            messages=["hi"], tools=[{"name": "t", "description": "d", "input_schema": schema}]
        )
        o = Prompt(
            messages=["hi"],
            tools=[
                {
                    "type": "function",
                    "function": {"name": "t", "description": "d", "parameters": schema},
                }
            ],
        )
        assert a.tools == o.tools == (Tool("t", "d", schema),)


class TestStaticHash:
    def test_same_static_parts_give_same_hash(self) -> None:
        """Calls sharing a static prefix share a prompt_hash, whatever their messages."""
        a = Prompt(system="S", context=["doc"], messages=["one"])
        b = Prompt(system="S", context=["doc"], messages=["two", assistant("x"), "three"])
        assert a.static_hash() == b.static_hash()

    @pytest.mark.parametrize(
        "other",
        [
            pytest.param(Prompt(system="S2", context=["doc"], messages=["one"]), id="system"),
            pytest.param(Prompt(system="S", context=["doc2"], messages=["one"]), id="context"),
            pytest.param(
                Prompt(system="S", context=["doc"], examples=[("q", "a")], messages=["one"]),
                id="examples",
            ),
            pytest.param(
                Prompt(system="S", context=["doc"], tools=[Tool("t", "d")], messages=["one"]),
                id="tools",
            ),
        ],
    )
    def test_changing_any_static_part_changes_the_hash(self, other: Prompt) -> None:
        """A changed static part is visible as a new prompt_hash (a cache miss to expect)."""
        assert (
            Prompt(system="S", context=["doc"], messages=["one"]).static_hash()
            != other.static_hash()
        )

    def test_with_messages_keeps_the_static_prefix(self) -> None:
        """with_messages() swaps the dynamic part only."""
        p = Prompt(system="S", context=["doc"], messages=["one"])
        q = p.with_messages("two")
        assert (p.static_hash(), ("two",)) == (q.static_hash(), tuple(m.text for m in q.messages))


class TestMapText:
    @given(st.text(max_size=40), st.text(max_size=40), st.text(min_size=1, max_size=40))
    def test_map_text_reaches_every_text(self, system: str, doc: str, msg: str) -> None:
        """map_text (used by PII handling) transforms every text the vendor would read."""
        p = Prompt(
            system or None,
            context=[doc],
            examples=[(msg, msg)],
            messages=[user(msg), tool_result("c1", msg)],
            tools=[Tool("t", msg)],
        )
        mapped = p.map_text(lambda s: "<" + s + ">")
        assert all(t.startswith("<") and t.endswith(">") for t in mapped.texts())
        assert len(p.texts()) == len(mapped.texts())
