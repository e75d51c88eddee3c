"""lint_prompt: static content that changes per call, short prefixes, too many blocks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from thinllm._cachelint import LintWarning, lint_prompt, min_cacheable_tokens
from thinllm._prompt import Prompt, Tool, user

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
LONG = "Our refund policy covers damaged goods within thirty days of delivery. " * 80


def codes(prompt: Prompt, **kwargs: object) -> list[str]:
    return [w.code for w in lint_prompt(prompt, now=NOW, **kwargs)]  # type: ignore[arg-type]


def system(text: str) -> Prompt:
    return Prompt(text + " " + LONG, messages=[user("hello")])


class TestVolatileContent:
    @pytest.mark.parametrize(
        ("text", "code"),
        [
            pytest.param("Today's date: 2026-11-28.", "date", id="iso-date"),
            pytest.param("Date 11/28/2026.", "date", id="us-date"),
            pytest.param("Date 28/11/2026.", "date", id="eu-date"),
            pytest.param("Date 28.11.2026.", "date", id="dotted-date"),
            pytest.param("It is Nov 28, 2026.", "date", id="month-name"),
            pytest.param("It is 27 November 2026.", "date", id="day-month"),
            pytest.param("Current time follows.", "date", id="now-phrase"),
            pytest.param("Generated 2026-11-28T09:30:01Z.", "timestamp", id="iso-datetime"),
            pytest.param("Sent at 09:30:01.", "time", id="clock"),
            pytest.param("ts=1795858201", "timestamp", id="epoch-s"),
            pytest.param("ts=1795858201000", "timestamp", id="epoch-ms"),
            pytest.param("Trace 3f2b8c4e-1a2b-4c3d-9e8f-0a1b2c3d4e5f.", "uuid", id="uuid"),
            pytest.param("Request req_8f3a9b2c1dQ.", "request-id", id="prefixed-id"),
            pytest.param("Ref 9f86d081884c7d659a2feaa0c55ad015.", "request-id", id="hex-id"),
            pytest.param("Run 01ARZ3NDEKTSV4RRFFQ69G5FAV.", "request-id", id="ulid"),
            pytest.param("Reply to alice.smith@corp.com.", "email", id="email"),
            pytest.param("User: Alice Smith", "user-name", id="user-label"),
            pytest.param("The customer is Bob.", "user-name", id="customer-is"),
            pytest.param("Hello, Carol! Help her.", "user-name", id="greeting"),
        ],
    )
    def test_flags_content_that_changes_per_call(self, text: str, code: str) -> None:
        """Per-call content in the system prompt is reported, so the cache can hit again."""
        assert code in codes(system(text))

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("This policy took effect on 2019-01-01.", id="fixed-date"),
            pytest.param("Office hours are 9:00 to 17:00.", id="hours"),
            pytest.param("Write to help@example.com in examples.", id="example-domain"),
            pytest.param("Dear Customer, thank you.", id="role-greeting"),
            pytest.param("Order numbers have 16 digits: 1234567812345678.", id="digits"),
            pytest.param("Classify the ticket as billing, shipping or other.", id="plain"),
        ],
    )
    def test_leaves_static_content_alone(self, text: str) -> None:
        """Fixed dates, hours, example addresses and plain instructions are not flagged."""
        assert codes(system(text)) == []

    def test_every_static_part_is_scanned_and_named(self) -> None:
        """Findings say which part holds the problem: context, examples, tool descriptions."""
        prompt = Prompt(
            LONG,
            context=["Doc fetched 2026-11-28T08:00:00Z"],
            examples=[("Ticket from bob@corp.com", "billing")],
            tools=[Tool("lookup", "Look up order 3f2b8c4e-1a2b-4c3d-9e8f-0a1b2c3d4e5f")],
            messages=[user("today is 2026-11-28, user bob@corp.com")],
        )
        found = {(w.where, w.code) for w in lint_prompt(prompt, now=NOW)}
        assert {
            ("context[0]", "timestamp"),
            ("examples[0]", "email"),
            ("tools['lookup'].description", "uuid"),
        } == found

    def test_messages_are_not_scanned(self) -> None:
        """Dynamic messages are meant to change: dates and names there are fine."""
        prompt = Prompt(LONG, messages=[user("Today is 2026-11-28, I am Alice (alice@corp.com)")])
        assert lint_prompt(prompt, now=NOW) == []

    def test_personal_data_is_masked_in_messages(self) -> None:
        """Lint output can be pasted in a ticket: emails and names are masked."""
        text = " ".join(
            w.message for w in lint_prompt(system("User: Alice for alice@corp.com"), now=NOW)
        )
        assert "Alice" not in text
        assert "alice@" not in text

    def test_ignore_skips_codes(self) -> None:
        """A team that puts a fixed support address in the prompt can silence that code."""
        assert codes(system("Write to support@acme.com."), ignore=["email"]) == []

    def test_warning_is_a_frozen_record(self) -> None:
        """Warnings carry code, message and where, and print as one line."""
        w = LintWarning("uuid", "msg", "system")
        assert str(w) == "system: uuid: msg"
        with pytest.raises(AttributeError):
            w.code = "x"  # type: ignore[misc]


class TestPrefixLength:
    def test_short_prefix_is_reported_with_an_estimate(self) -> None:
        """A prefix under the model's minimum is flagged, saying the count is an estimate."""
        (w,) = lint_prompt(Prompt("Be brief.", messages=[user("hi")]), model="gpt-6-sol", now=NOW)
        assert w.code == "short-prefix"
        assert "estimate" in w.message
        assert "1024" in w.message

    @pytest.mark.parametrize(
        ("model", "minimum", "documented"),
        [
            pytest.param("claude-opus-5", 512, True, id="opus-5"),
            pytest.param("claude-sonnet-5", 1024, True, id="sonnet-5"),
            pytest.param("claude-opus-4-7", 2048, True, id="opus-4-7"),
            pytest.param("claude-haiku-4-5-20251001", 4096, True, id="haiku-dated"),
            pytest.param("anthropic/claude-opus-5", 512, True, id="prefixed"),
            pytest.param("gpt-6.1-terra", 1024, True, id="openai"),
            pytest.param("claude-sonnet-5-5", 1024, False, id="unlisted-claude"),
            pytest.param("claude-opus-5-5", 512, False, id="family-predecessor"),
            pytest.param("claude-haiku-5-5", 1024, False, id="unknown-family-member"),
            pytest.param(None, 1024, False, id="no-model"),
        ],
    )
    def test_minimum_per_model(self, model: str | None, minimum: int, documented: bool) -> None:
        """The minimum follows the vendor's table and says when it is assumed."""
        assert (minimum, documented) == min_cacheable_tokens(model)

    def test_length_depends_on_model(self) -> None:
        """About 700 tokens caches on Opus 5 (512) but not on Haiku 4.5 (4096)."""
        prompt = Prompt("x" * 2800, messages=[user("hi")])
        assert codes(prompt, model="claude-opus-5") == []
        assert codes(prompt, model="claude-haiku-4-5") == ["short-prefix"]

    def test_cache_off_is_not_nagged(self) -> None:
        """A prompt that opted out of caching gets no length warning."""
        assert codes(Prompt("Be brief.", messages=[user("hi")], cache=False)) == []

    def test_unlisted_model_says_assumed(self) -> None:
        """For a model not in the table, the message says the minimum is an assumption."""
        (w,) = lint_prompt(Prompt("Hi.", messages=[user("x")]), model="claude-mythos-5-2", now=NOW)
        assert "assumed" in w.message


class TestBlocks:
    def test_too_many_blocks_for_one_breakpoint(self) -> None:
        """A prefix of many small documents is flagged: one breakpoint looks back 20 blocks."""
        prompt = Prompt(LONG, context=[f"doc {i}" for i in range(25)], messages=[user("x")])
        (w,) = lint_prompt(prompt, model="claude-sonnet-5", now=NOW)
        assert w.code == "too-many-blocks"
        assert "26 content blocks" in w.message

    def test_more_than_four_breakpoints_says_so(self) -> None:
        """Past 80 blocks even four breakpoints cannot cover the prefix."""
        prompt = Prompt(LONG, context=[f"doc {i}" for i in range(90)], messages=[user("x")])
        (w,) = lint_prompt(prompt, model="claude-sonnet-5", now=NOW)
        assert "more than the 4 Anthropic allows" in w.message

    def test_block_rule_is_anthropic_only(self) -> None:
        """OpenAI has no block look-back limit, so an OpenAI route is not warned."""
        prompt = Prompt(LONG, context=[f"doc {i}" for i in range(25)], messages=[user("x")])
        assert codes(prompt, model="gpt-6-sol") == []
