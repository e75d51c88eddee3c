"""The PII policies: what each does to outgoing text, to sink records and to replies."""

from __future__ import annotations

import pytest

from thinllm import Tags
from thinllm.errors import ConfigurationError
from thinllm.pii import (
    Block,
    BuiltinDetector,
    ByTag,
    Detect,
    Pattern,
    PIIPolicy,
    Pseudonymize,
    Redact,
    RouteTo,
    Span,
    restore_data,
)

TAGS = Tags(user="u", workflow="support")
TEXT = "Mail jane@corp.com or bob@corp.com; again jane@corp.com. Card 4111 1111 1111 1111."
VALUES = ("jane@corp.com", "bob@corp.com", "4111 1111 1111 1111")


class TestRedact:
    def test_values_become_numbered_typed_placeholders(self) -> None:
        """Each value becomes [TYPE_n]; the same value keeps its number within a call."""
        out = Redact().session(TAGS).outgoing(TEXT)
        assert out == "Mail [EMAIL_1] or [EMAIL_2]; again [EMAIL_1]. Card [CREDIT_CARD_1]."

    def test_numbers_are_shared_across_texts_of_one_call(self) -> None:
        """System prompt and messages of one call use the same numbering."""
        session = Redact().session(TAGS)
        session.outgoing("from jane@corp.com")
        assert session.outgoing("to bob@corp.com, cc jane@corp.com") == "to [EMAIL_2], cc [EMAIL_1]"

    def test_counts_distinct_values_per_type(self) -> None:
        """The audit counts say how many distinct values of each type were found."""
        session = Redact().session(TAGS)
        session.outgoing(TEXT)
        session.outgoing(TEXT)  # a retry on another route sees the same text again
        assert session.counts == {"EMAIL": 2, "CREDIT_CARD": 1}

    def test_redacting_redacted_text_changes_nothing(self) -> None:
        """Running Redact over its own output is a no-op."""
        once = Redact().session(TAGS).outgoing(TEXT)
        assert once == Redact().session(TAGS).outgoing(once)

    def test_reply_is_not_restored(self) -> None:
        """Under Redact the model never had the values, so nothing is put back."""
        session = Redact().session(TAGS)
        session.outgoing(TEXT)
        assert session.restore("hi [EMAIL_1]") == "hi [EMAIL_1]"

    def test_caller_written_placeholder_keeps_its_number(self) -> None:
        """A literal "[EMAIL_1]" in the caller's text is not reused for a real value."""
        out = Redact().session(TAGS).outgoing("[EMAIL_1] is a template; real: a@b.io")
        assert out == "[EMAIL_1] is a template; real: [EMAIL_2]"

    def test_action_and_routes_on_the_session(self) -> None:
        """The pipeline reads what to do from the session."""
        session = Redact().session(TAGS)
        assert (session.action, session.routes) == ("redact", ())


class TestPseudonymize:
    def test_values_become_pseudonyms_and_come_back(self) -> None:
        """The vendor sees <EMAIL_1>; the caller's reply has the real value again."""
        session = Pseudonymize().session(TAGS)
        sent = session.outgoing(TEXT)
        assert sent == "Mail <EMAIL_1> or <EMAIL_2>; again <EMAIL_1>. Card <CREDIT_CARD_1>."
        assert (
            session.restore("Dear <EMAIL_1>, card <CREDIT_CARD_1> is blocked.")
            == "Dear jane@corp.com, card 4111 1111 1111 1111 is blocked."
        )

    def test_unknown_pseudonyms_are_left_alone(self) -> None:
        """A placeholder the call never issued (model invention) is not touched."""
        session = Pseudonymize().session(TAGS)
        session.outgoing("a@b.io")
        assert session.restore("<EMAIL_7> and <b>") == "<EMAIL_7> and <b>"

    def test_record_stores_the_pseudonymized_text(self) -> None:
        """Sinks get what the vendor saw, and restored replies are re-pseudonymized."""
        session = Pseudonymize().session(TAGS)
        session.outgoing(TEXT)
        reply = session.restore("Sent to <EMAIL_2>.")
        assert session.record(reply) == "Sent to <EMAIL_2>."

    def test_record_catches_known_values_the_detector_misses(self) -> None:
        """A value seen in the prompt is hidden in records even where it is not detectable."""
        detector = BuiltinDetector(custom=[Pattern("CODE", r"(?<=code )\w+")])
        session = Pseudonymize(detector).session(TAGS)
        session.outgoing("code XJ42")
        assert session.record("it was XJ42") == "it was <CODE_1>"

    def test_caller_written_pseudonym_is_not_restored_into_a_value(self) -> None:
        """A literal "<EMAIL_1>" in the prompt stays literal after the round trip."""
        session = Pseudonymize().session(TAGS)
        text = "template <EMAIL_1>, real a@b.io"
        assert text == session.restore(session.outgoing(text))

    def test_map_is_not_in_the_repr(self) -> None:
        """Printing or logging a session shows counts, never values."""
        session = Pseudonymize().session(TAGS)
        session.outgoing(TEXT)
        assert not any(v in repr(session) for v in VALUES)

    def test_restore_data_walks_tool_arguments(self) -> None:
        """Parsed tool-call arguments get values back in nested strings and keys."""
        session = Pseudonymize().session(TAGS)
        session.outgoing("-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY----- a@b.io")
        args = {"to": ["<EMAIL_1>"], "<EMAIL_1>": ("x", 3), "key": "<SECRET_1>"}
        assert restore_data(session, args) == {
            "to": ["a@b.io"],
            "a@b.io": ("x", 3),
            "key": "-----BEGIN PRIVATE KEY-----\nQUJD\n-----END PRIVATE KEY-----",
        }


@pytest.mark.parametrize(
    ("policy", "action", "routes"),
    [
        pytest.param(RouteTo("eu", "eu-backup"), "route", ("eu", "eu-backup"), id="route"),
        pytest.param(Block(), "block", (), id="block"),
        pytest.param(Detect(), "detect", (), id="detect"),
    ],
)
class TestSendUnchanged:
    def test_outgoing_text_is_unchanged_but_counted(
        self, policy: PIIPolicy, action: str, routes: tuple[str, ...]
    ) -> None:
        """The text goes out as written (to a compliant route, or not at all) and is counted."""
        session = policy.session(TAGS)
        assert session.outgoing(TEXT) == TEXT
        assert session.counts == {"EMAIL": 2, "CREDIT_CARD": 1}
        assert (action, routes) == (session.action, session.routes)

    def test_records_never_hold_values(
        self, policy: PIIPolicy, action: str, routes: tuple[str, ...]
    ) -> None:
        """Even when the vendor got the values, the sink gets placeholders."""
        session = policy.session(TAGS)
        session.outgoing(TEXT)
        assert (
            session.record(TEXT)
        ) == "Mail [EMAIL_1] or [EMAIL_2]; again [EMAIL_1]. Card [CREDIT_CARD_1]."

    def test_restore_is_identity(
        self, policy: PIIPolicy, action: str, routes: tuple[str, ...]
    ) -> None:
        """Nothing was replaced on the way out, so nothing is replaced on the way back."""
        session = policy.session(TAGS)
        session.outgoing(TEXT)
        assert session.restore("<EMAIL_1> [EMAIL_1]") == "<EMAIL_1> [EMAIL_1]"
        restorer = session.restorer()
        assert (
            restorer.feed("<EMA"),
            restorer.feed("IL_1>"),
            restorer.flush(),
        ) == ("<EMA", "IL_1>", "")

    def test_no_pii_no_counts(
        self, policy: PIIPolicy, action: str, routes: tuple[str, ...]
    ) -> None:
        """A clean prompt leaves counts empty (so Block does not block it)."""
        session = policy.session(TAGS)
        session.outgoing("Summarise the attached policy in three bullet points.")
        assert session.counts == {}


class TestRouteTo:
    def test_needs_route_names(self) -> None:
        """RouteTo() without a route name is a configuration error that says what to pass."""
        with pytest.raises(ConfigurationError, match='RouteTo\\("eu"\\)'):
            RouteTo()

    def test_repr_names_the_routes(self) -> None:
        """The policy reads back as written."""
        assert repr(RouteTo("eu", "eu-2")) == "RouteTo('eu', 'eu-2')"


class TestByTag:
    POLICY = ByTag(
        "workflow", {"payroll": Block(), "support": Pseudonymize(), "eu": RouteTo("eu")},
        default=Detect(),
    )  # fmt: skip

    @pytest.mark.parametrize(
        ("tags", "action", "routes"),
        [
            (Tags(workflow="payroll"), "block", ()),
            (Tags(workflow="support"), "pseudonymize", ()),
            (Tags(workflow="eu"), "route", ("eu",)),
            (Tags(workflow="other"), "detect", ()),
            (Tags(user="no-workflow"), "detect", ()),
        ],
    )
    def test_session_follows_the_tag(
        self, tags: Tags, action: str, routes: tuple[str, ...]
    ) -> None:
        """Each call gets the policy for its tag value, or the default."""
        session = self.POLICY.session(tags)
        assert (action, routes) == (session.action, session.routes)

    def test_default_default_is_redact(self) -> None:
        """Without default= an untagged call is redacted, the privacy-safe choice."""
        assert ByTag("workflow", {}).session(Tags()).action == "redact"

    def test_policy_level_attributes(self) -> None:
        """The ByTag policy itself reports "by_tag" and every route it may restrict to."""
        assert (self.POLICY.action, self.POLICY.routes) == ("by_tag", ("eu",))

    def test_rejects_non_policies(self) -> None:
        """A mapping value that is not a policy is caught at construction."""
        with pytest.raises(ConfigurationError):
            ByTag("workflow", {"x": "redact"})  # type: ignore[dict-item]


class TestCustomDetector:
    def test_any_callable_drives_a_policy(self) -> None:
        """A policy can use any detector callable, overlaps resolved by the session."""

        def overlapping(text: str) -> list[Span]:
            return [Span("A", 0, 3), Span("B", 0, 5)]

        assert Redact(overlapping).session(TAGS).outgoing("hello world") == "[B_1] world"

    def test_detector_matching_its_own_placeholders_terminates(self) -> None:
        """A detector that would match placeholders cannot loop forever or eat them."""
        out = Redact(Pattern("WORD", r"\w+")).session(TAGS).outgoing("one two")
        assert out == "[WORD_1] [WORD_2]"

    def test_non_callable_detector_is_rejected(self) -> None:
        """A detector must be callable; anything else fails at construction."""
        with pytest.raises(ConfigurationError):
            Redact("EMAIL")  # type: ignore[arg-type]
