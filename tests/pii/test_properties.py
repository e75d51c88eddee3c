"""Properties that must hold for any text: idempotence, round trips, no surviving value."""

from __future__ import annotations

import dataclasses
import re
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinllm import Tags
from thinllm.pii import BuiltinDetector, Pseudonymize, Redact, RouteTo, _base, _entities, scrub

PII = [
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "(415) 555-2671",
    "4111 1111 1111 1111",
    "378282246310005",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "123-45-6789",
    "192.168.1.1",
    "2001:db8::8a2e:370:7334",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "[EMAIL_1]",
    "<EMAIL_1>",
    "<PHONE_",
]
# Characters that make up PII and its surroundings, so random text hits the edge cases.
ALPHABET = st.sampled_from([*"0123456789 .-+()@:[]<>_/xAZaz\n", "é", "€"])
TEXT = st.lists(
    st.one_of(st.text(ALPHABET, max_size=12), st.text(max_size=8), st.sampled_from(PII)),
    max_size=8,
).map("".join)
TAGS = Tags()


class TestRedactionProperties:
    @settings(max_examples=300, deadline=None)
    @given(TEXT)
    def test_redaction_is_idempotent(self, text: str) -> None:
        """Redacting the output of a redaction changes nothing."""
        once = Redact().session(TAGS).outgoing(text)
        assert once == Redact().session(TAGS).outgoing(once)

    @settings(max_examples=300, deadline=None)
    @given(TEXT)
    def test_no_detected_value_survives_in_records(self, text: str) -> None:
        """No value the detector finds in a text appears in what a sink stores."""
        values = {text[s.start : s.end] for s in BuiltinDetector()(text)}
        for policy in (Redact(), Pseudonymize(), RouteTo("eu")):
            session = policy.session(TAGS)
            session.outgoing(text)
            stored = session.record(text)
            assert [v for v in values if v in stored] == []

    @settings(max_examples=200, deadline=None)
    @given(TEXT)
    def test_scrub_leaves_no_detectable_value(self, text: str) -> None:
        """scrub() output has nothing left for the detector to find."""
        assert BuiltinDetector()(scrub(text)) == []


class TestPseudonymizeProperties:
    @settings(max_examples=300, deadline=None)
    @given(TEXT)
    def test_round_trip(self, text: str) -> None:
        """Pseudonymize then restore gives back exactly the original text."""
        session = Pseudonymize().session(TAGS)
        assert text == session.restore(session.outgoing(text))

    @settings(max_examples=100, deadline=None)
    @given(TEXT, st.lists(st.integers(min_value=0, max_value=400), max_size=6))
    def test_streamed_round_trip(self, text: str, cuts: list[int]) -> None:
        """Restoring the pseudonymized text in arbitrary chunks gives back the original."""
        session = Pseudonymize().session(TAGS)
        sent = session.outgoing(text)
        points = sorted({min(c, len(sent)) for c in cuts})
        chunks = [sent[a:b] for a, b in zip([0, *points], [*points, len(sent)], strict=True)]
        restorer = session.restorer()
        assert text == "".join(restorer.feed(c) for c in chunks) + restorer.flush()


# Hex groups, colons and the characters around addresses, plus whole addresses and
# near misses (MAC addresses, times), so random text exercises every IPv6 shape.
IPV6_PARTS = [
    "2001:db8::8a2e:370:7334",
    "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
    "64:ff9b:0:0:0:0:192.0.2.33",
    "fe80::1",
    "::ffff:192.0.2.1",
    "00:1a:2b:3c:4d:5e",
    "12:26:32",
]
IPV6_TEXT = st.lists(
    st.one_of(
        st.text(st.sampled_from([*"0123456789abcdefABCDEF:.", " ", "g", "x"]), max_size=16),
        st.sampled_from(IPV6_PARTS),
    ),
    max_size=8,
).map("".join)


class TestIPv6Prescan:
    @settings(max_examples=500, deadline=None)
    @given(IPV6_TEXT)
    def test_prescan_finds_what_trying_every_colon_finds(self, text: str) -> None:
        """The six-colon prescan reports the same addresses as a looser one would.

        The reference anchors a candidate on any colon between hex groups, as the
        detector did before it learned to skip MAC addresses and times in C.
        """
        detector = BuiltinDetector(entities=["IP_ADDRESS"])
        fast = detector(text)
        loose = re.compile(r"::|:(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:")
        reference_rx = dataclasses.replace(_entities._rx(), colon=loose)
        with mock.patch.object(_entities, "_rx", return_value=reference_rx):
            assert fast == detector(text)


# Plain prose plus the first signs of every entity (and near misses), so random text
# mostly has none of them or just one, which is where a screen could go wrong.
SIGN_TEXT = st.lists(
    st.one_of(
        st.text(st.sampled_from([*"abcdeyJBrAKISz .,!?\n", "é"]), max_size=12),
        st.sampled_from(
            [
                *PII,
                "Bearer abcdefghijklmnopqrstuvwxyzab",
                "eyJhbGciOiJI.eyJzdWIiOiIx.sig",
                "AIzaSyabcdefghijklmnopqrstuvwxyzABCDEFG",
                "xoxb-1234567890-abc",
                "sk_live_abcdefghijklmnopqr",
                "-----BEGIN PRIVATE KEY-----",
                "-",
                "_",
                ":",
                "@",
                "7",
            ]
        ),
    ),
    max_size=6,
).map("".join)


def _every_pass(text: str) -> list[_base.Span]:
    """The built-in entities found by running every entity's pass, with no screen first."""
    out: list[_base.Span] = []
    if "@" in text:
        _entities._emails(text, out)
    if ":" in text:
        _entities._ipv6(text, out)
    _entities._secrets(text, out)
    _entities._digits(text, _entities._DIGIT_ENTITIES, out)
    return out


class TestNoSignScreen:
    @settings(max_examples=400, deadline=None)
    @given(SIGN_TEXT)
    def test_screen_finds_what_every_pass_finds(self, text: str) -> None:
        """The one-search screen before the entity passes never loses a span."""
        out: list[_base.Span] = []
        _entities.find_builtin(text, frozenset(_entities.BUILTIN_ENTITIES), out)
        assert out == _every_pass(text)


class TestSpanFactory:
    @settings(max_examples=200, deadline=None)
    @given(
        st.sampled_from(_entities.BUILTIN_ENTITIES),
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=0, max_value=10_000),
        st.floats(min_value=0, max_value=2),
    )
    def test_fast_span_is_the_dataclass_span(
        self, entity: str, start: int, end: int, score: float
    ) -> None:
        """The spans the built-in finders build compare, hash, print and freeze like Span()."""
        fast = _base.new_span(entity, start, end, score)
        made = _base.Span(entity, start, end, score)
        assert (type(made), made, hash(made), repr(made)) == (
            type(fast),
            fast,
            hash(fast),
            repr(fast),
        )
        assert dataclasses.asdict(made) == dataclasses.asdict(fast)
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.start = 0  # type: ignore[misc]


# Digits, separators and the words around numbers, so random text has many candidates
# that fail one kind and may pass a later one.
NUMBER_TEXT = st.lists(
    st.one_of(
        st.text(st.sampled_from([*"0123456789 .-/()+#GBx"]), max_size=16),
        st.sampled_from(
            ["001-415-555-2671", "4111 1111 1111 1111", "000-12-3456", " ext ", "tel ", "0"]
        ),
    ),
    max_size=6,
).map("".join)


def _later_reference(text: str, start: int, kind: str, wanted: frozenset[str]) -> object:
    """The later kinds tried one by one, each with its own pattern (the slower old way)."""
    names = [k for k, _ in _entities._KINDS]
    for later, body in _entities._KINDS[names.index(kind) + 1 :]:
        if _entities._KIND_ENTITY[later] not in wanted:
            continue
        token = "" if later in _entities._AFTER_MARK else _entities._TOKEN
        pattern = f"[0-9]{_entities._GUARD}{token}(?:{body}){_entities._END}"
        m = re.compile(pattern).match(text, start)
        if m is not None:
            span = _entities._CHECKS[later](text, m, later, wanted)
            if span is not None:
                return span
    return None


class TestLaterKinds:
    @settings(max_examples=300, deadline=None)
    @given(NUMBER_TEXT, st.sampled_from([k for k, _ in _entities._KINDS]))
    def test_one_alternation_finds_what_each_kind_finds(self, text: str, kind: str) -> None:
        """After a failed candidate, the later kinds' alternation finds the same span as
        trying each later kind's own pattern in order, for every start and entity set."""
        for wanted in (frozenset(_entities.BUILTIN_ENTITIES), frozenset({"PHONE"})):
            for start in range(len(text)):
                expected = _later_reference(text, start, kind, wanted)
                assert expected == _entities._later_kinds(text, start, kind, wanted)
