"""Rendering: the exact request each vendor receives, static prefix first, nothing added."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from thinllm import (
    Client,
    ConfigurationError,
    Prompt,
    Route,
    Tags,
    Tool,
    ToolCall,
    UnsupportedOptionError,
    assistant,
    tool_result,
    user,
)
from thinllm.testing import FakeVendor

LONG_POLICY = "Refunds are allowed within 30 days of purchase. " * 120  # ~5,900 chars
LOOKUP = Tool(
    "lookup_order",
    "Look up an order by id.",
    {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
)


def routes(fake: FakeVendor) -> Client:
    return Client(
        [
            Route(fake.anthropic(), model="claude-sonnet-5-5", name="claude"),
            Route(fake.openai(), model="gpt-6.1-terra", name="chat"),
            Route(fake.openai(), model="gpt-6.1-terra", name="responses", api="responses"),
        ]
    )


def leaves(value: Any) -> list[str]:
    """Every string value in a JSON document (keys excluded)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in leaves(v)]
    if isinstance(value, list):
        return [s for v in value for s in leaves(v)]
    return []


STRUCTURAL = {
    "user",
    "assistant",
    "system",
    "tool",
    "text",
    "ephemeral",
    "1h",
    "object",
    "string",
    "function",
    "tool_use",
    "tool_result",
    "input_text",
    "output_text",
    "function_call",
    "function_call_output",
    "order_id",
    "any",
    "auto",
}


class TestAnthropicRender:
    def test_static_prefix_first_with_one_cache_breakpoint(self, fake: FakeVendor) -> None:
        """tools -> system+context -> examples -> messages, one cache marker at the end of the static part."""
        prompt = Prompt(
            "You triage tickets.",
            context=[LONG_POLICY],
            examples=[("Where is my parcel?", "shipping")],
            messages=[user("I want my money back")],
            tools=[LOOKUP],
        )
        kw = routes(fake).render(prompt, route="claude", max_tokens=64)
        assert [b["text"] for b in kw["system"]] == ["You triage tickets.", LONG_POLICY]
        assert kw["tools"][0]["input_schema"] == dict(LOOKUP.parameters)
        assert [m["role"] for m in kw["messages"]] == ["user", "assistant", "user"]
        markers = [
            path
            for path, block in _blocks(kw)
            if isinstance(block, dict) and "cache_control" in block
        ]
        assert markers == ["messages[1]"]  # the last example closes the static prefix
        assert kw["messages"][1]["content"][-1]["cache_control"] == {"type": "ephemeral"}

    def test_breakpoint_on_last_context_block_and_ttl(self, fake: FakeVendor) -> None:
        """Without examples the marker goes on the last system block, with the chosen TTL."""
        prompt = Prompt("S", context=[LONG_POLICY], messages=["q"], cache_ttl="1h")
        kw = routes(fake).render(prompt, route="claude", max_tokens=64)
        assert kw["system"][-1]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
        assert "cache_control" not in kw["system"][0]

    def test_short_static_prefix_gets_no_marker_unless_forced(self, fake: FakeVendor) -> None:
        """A prefix under the vendor's minimum cacheable length is not marked (it would not cache)."""
        client = routes(fake)
        auto = client.render(Prompt("Be brief.", messages=["q"]), route="claude", max_tokens=8)
        forced = client.render(
            Prompt("Be brief.", messages=["q"], cache=True), route="claude", max_tokens=8
        )
        assert "cache_control" not in json.dumps(auto)
        assert forced["system"][-1]["cache_control"] == {"type": "ephemeral"}

    def test_tool_history_renders_as_tool_use_and_result_blocks(self, fake: FakeVendor) -> None:
        """A replayed tool call and its result become tool_use / tool_result blocks in order."""
        prompt = Prompt(
            messages=[
                user("Status of A1?"),
                assistant(tool_calls=[ToolCall("call_1", "lookup_order", {"order_id": "A1"})]),
                tool_result("call_1", "shipped"),
                user("Thanks, and when?"),
            ],
            tools=[LOOKUP],
        )
        kw = routes(fake).render(prompt, route="claude", max_tokens=64)
        assert kw["messages"][1]["content"] == [
            {
                "type": "tool_use",
                "id": "call_1",
                "name": "lookup_order",
                "input": {"order_id": "A1"},
            }
        ]
        assert kw["messages"][2] == {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "shipped"},
                {"type": "text", "text": "Thanks, and when?"},
            ],
        }

    def test_options_are_renamed_or_refused(self, fake: FakeVendor) -> None:
        """stop becomes stop_sequences; temperature (not in this API) is refused before sending."""
        client = routes(fake)
        kw = client.render(Prompt(messages=["q"]), route="claude", max_tokens=5, stop=["\n"])
        assert kw["stop_sequences"] == ["\n"]
        with pytest.raises(UnsupportedOptionError, match="temperature"):
            client.render(Prompt(messages=["q"]), route="claude", max_tokens=5, temperature=0.2)

    def test_missing_max_tokens_is_a_clear_error(self, fake: FakeVendor) -> None:
        """Anthropic requires max_tokens; the error says where to set it."""
        with pytest.raises(ConfigurationError, match="max_tokens"):
            routes(fake).render(Prompt(messages=["q"]), route="claude")


class TestOpenAIRender:
    @pytest.mark.parametrize("route", ["chat", "responses"])
    def test_static_prefix_leads_and_cache_key_is_stable(
        self, fake: FakeVendor, route: str
    ) -> None:
        """System and context come first; prompt_cache_key depends only on the static prefix."""
        client = routes(fake)
        a = client.render(Prompt("S", context=["doc"], messages=["one"]), route=route, max_tokens=5)
        b = client.render(Prompt("S", context=["doc"], messages=["two"]), route=route, max_tokens=5)
        c = client.render(
            Prompt("S2", context=["doc"], messages=["one"]), route=route, max_tokens=5
        )
        assert a["prompt_cache_key"] == b["prompt_cache_key"] != c["prompt_cache_key"]
        first = (a["messages"] if route == "chat" else a["input"])[0]
        assert first["role"] == "system"
        assert [p["text"] for p in first["content"]] == ["S", "doc"]

    def test_max_tokens_maps_to_each_api(self, fake: FakeVendor) -> None:
        """The neutral max_tokens becomes max_completion_tokens / max_output_tokens."""
        client = routes(fake)
        p = Prompt(messages=["q"])
        assert client.render(p, route="chat", max_tokens=7)["max_completion_tokens"] == 7
        assert client.render(p, route="responses", max_tokens=7)["max_output_tokens"] == 7

    def test_stop_is_refused_by_responses(self, fake: FakeVendor) -> None:
        """An option the Responses API lacks raises instead of being dropped."""
        with pytest.raises(UnsupportedOptionError, match="stop"):
            routes(fake).render(Prompt(messages=["q"]), route="responses", stop=["x"])

    def test_tools_render_per_api(self, fake: FakeVendor) -> None:
        """One neutral tool becomes a Chat function tool and a Responses function tool."""
        client = routes(fake)
        p = Prompt(messages=["q"], tools=[LOOKUP])
        chat = client.render(p, route="chat")["tools"][0]
        resp = client.render(p, route="responses")["tools"][0]
        assert chat == {
            "type": "function",
            "function": {
                "name": "lookup_order",
                "description": LOOKUP.description,
                "parameters": dict(LOOKUP.parameters),
            },
        }
        assert (resp["type"], resp["name"], resp["parameters"]) == (
            "function",
            "lookup_order",
            dict(LOOKUP.parameters),
        )


class TestBadInput:
    @pytest.mark.parametrize("value", [-1, 0, 2.5, "100", True])
    def test_bad_max_tokens_is_refused(self, fake: FakeVendor, value: object) -> None:
        """max_tokens must be a positive integer, for every API."""
        client = routes(fake)
        for route in ("claude", "chat", "responses"):
            with pytest.raises(ConfigurationError, match="max_tokens"):
                client.render(Prompt(messages=["q"]), route=route, max_tokens=value)

    def test_model_must_be_a_string(self, fake: FakeVendor) -> None:
        """A model that is not a string is caught when the route is built."""
        with pytest.raises(ConfigurationError, match="model"):
            Route(fake.anthropic(), model=None)  # type: ignore[arg-type]

    def test_unknown_route_type(self) -> None:
        """Something that is not a vendor client cannot be a route; the error lists what can."""
        with pytest.raises(ConfigurationError, match="unknown route type"):
            Route(object(), model="m")

    def test_api_must_fit_the_client(self, fake: FakeVendor) -> None:
        """An Anthropic client cannot speak the Chat API."""
        with pytest.raises(ConfigurationError, match="does not fit"):
            Route(fake.anthropic(), model="claude-sonnet-5-5", api="chat")

    def test_unknown_route_name(self, fake: FakeVendor) -> None:
        """Naming a route the client lacks lists the routes it has."""
        with pytest.raises(ConfigurationError, match="claude"):
            routes(fake).render(Prompt(messages=["q"]), route="nope")

    def test_duplicate_route_names(self, fake: FakeVendor) -> None:
        """Two routes with one name would make audit records ambiguous."""
        r = Route(fake.anthropic(), model="claude-sonnet-5-5")
        with pytest.raises(ConfigurationError, match="unique"):
            Client([r, Route(fake.anthropic(), model="claude-sonnet-5-5")])

    def test_prompt_must_be_a_prompt(self, fake: FakeVendor) -> None:
        """Passing a bare string to complete() says how to build a Prompt; nothing is sent."""
        with pytest.raises(ConfigurationError, match="Prompt"):
            routes(fake).complete("hello")  # type: ignore[arg-type]
        assert fake.requests == []


class TestWire:
    @pytest.mark.parametrize("route", ["claude", "chat", "responses"])
    def test_request_on_the_wire_is_the_rendered_request(
        self, fake: FakeVendor, route: str
    ) -> None:
        """What the vendor receives equals render(): no hidden field, no rewritten text."""
        client = routes(fake)
        prompt = Prompt(
            "You triage.", context=[LONG_POLICY], messages=["Refund please"], tools=[LOOKUP]
        )
        tags = Tags(user="alice@example.com")
        client.complete(prompt, tags=tags, route=route, max_tokens=32)
        sent = fake.requests[-1].body
        assert (
            json.loads(json.dumps(client.render(prompt, route=route, tags=tags, max_tokens=32)))
            == sent
        )

    @pytest.mark.parametrize("route", ["claude", "chat", "responses"])
    def test_only_user_text_plus_cache_markers_and_tag_fields(
        self, fake: FakeVendor, route: str
    ) -> None:
        """Every string on the wire is the user's text, the model, a cache marker or the hashed user."""
        client = routes(fake)
        texts = {
            "You triage.",
            LONG_POLICY,
            "Refund please",
            "shipping",
            "Where is it?",
            LOOKUP.description,
        }
        prompt = Prompt(
            "You triage.",
            context=[LONG_POLICY],
            examples=[("Where is it?", "shipping")],
            messages=["Refund please"],
            tools=[LOOKUP],
        )
        client.complete(prompt, tags=Tags(user="alice@example.com"), route=route, max_tokens=32)
        body = fake.requests[-1].body
        hashed_user = hashlib.sha256(b"alice@example.com").hexdigest()[:32]
        allowed = (
            texts | STRUCTURAL | {"gpt-6.1-terra", "claude-sonnet-5-5", "lookup_order", hashed_user}
        )
        allowed.add(prompt.static_hash())
        assert set(leaves(body)) - allowed == set()
        assert "alice@example.com" not in fake.requests[-1].raw_body.decode()


def _blocks(kw: dict[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for i, t in enumerate(kw.get("tools", [])):
        out.append((f"tools[{i}]", t))
    for i, b in enumerate(kw.get("system", [])):
        out.append((f"system[{i}]", b))
    for i, m in enumerate(kw["messages"]):
        for b in m["content"]:
            out.append((f"messages[{i}]", b))
    return out
