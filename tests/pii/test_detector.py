"""What the built-in detector finds, what it must not find, and how it is configured."""

from __future__ import annotations

import re

import pytest

from thinllm.errors import ConfigurationError
from thinllm.pii import BuiltinDetector, Pattern, Span, resolve_overlaps

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----"


def found(text: str, detector: BuiltinDetector | None = None) -> list[tuple[str, str]]:
    """(entity, value) pairs the detector reports in ``text``."""
    spans = (detector or BuiltinDetector())(text)
    return [(s.entity, text[s.start : s.end]) for s in spans]


POSITIVES = [
    # e-mail
    ("EMAIL", "jane.doe@example.com"),
    ("EMAIL", "j.o'neil+billing@mail.corp.co.uk".replace("'", "")),
    ("EMAIL", "UPPER_case-1@Sub.Example.ORG"),
    # phones: E.164 and national formats
    ("PHONE", "+14155552671"),
    ("PHONE", "+1 (415) 555-2671"),
    ("PHONE", "+1-415-555-2671"),
    ("PHONE", "(415) 555-2671"),
    ("PHONE", "(415)555-2671"),
    ("PHONE", "415-555-2671"),
    ("PHONE", "415.555.2671"),
    ("PHONE", "415 555 2671"),
    ("PHONE", "415-555-2671x123"),
    ("PHONE", "1-415-555-2671"),
    ("PHONE", "001-415-555-2671"),
    ("PHONE", "+44 20 7946 0958"),
    ("PHONE", "+44 (0)20 7946 0958"),
    ("PHONE", "020 7946 0958"),
    ("PHONE", "07700 900123"),
    ("PHONE", "(0113) 496 0123"),
    ("PHONE", "+49 30 1234567"),
    ("PHONE", "+49 (0) 171 1234567"),
    ("PHONE", "030 1234567"),
    ("PHONE", "+33 1 23 45 67 89"),
    ("PHONE", "01 23 45 67 89"),
    # cards: Luhn-valid, plausible issuers, with and without separators
    ("CREDIT_CARD", "4111111111111111"),
    ("CREDIT_CARD", "4111 1111 1111 1111"),
    ("CREDIT_CARD", "4111-1111-1111-1111"),
    ("CREDIT_CARD", "3782 822463 10005"),
    ("CREDIT_CARD", "5555555555554444"),
    ("CREDIT_CARD", "6011111111111117"),
    ("CREDIT_CARD", "4222222222222"),
    # IBAN
    ("IBAN", "DE89370400440532013000"),
    ("IBAN", "DE89 3704 0044 0532 0130 00"),
    ("IBAN", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN", "NL91ABNA0417164300"),
    ("IBAN", "FR1420041010050500013M02606"),
    # US SSN
    ("US_SSN", "123-45-6789"),
    ("US_SSN", "123 45 6789"),
    ("US_SSN", "899-99-9999"),
    # IP addresses
    ("IP_ADDRESS", "192.168.1.1"),
    ("IP_ADDRESS", "8.8.8.8"),
    ("IP_ADDRESS", "2001:db8::8a2e:370:7334"),
    ("IP_ADDRESS", "2001:0db8:85a3:0000:0000:8a2e:0370:7334"),
    ("IP_ADDRESS", "fe80::1"),
    ("IP_ADDRESS", "::ffff:192.0.2.1"),
    # secrets
    ("SECRET", "sk-" + "a1B2" * 12),
    ("SECRET", "sk-proj-" + "Ab3_-" * 10),
    ("SECRET", "sk-ant-api03-" + "x9Y-" * 20 + "AA"),
    ("SECRET", "AKIAIOSFODNN7EXAMPLE"),
    ("SECRET", "ASIAY34FZKBOKMUTVV7A"),
    ("SECRET", "ghp_" + "a1" * 18),
    ("SECRET", "github_pat_" + "11ABCDEFG0" * 5),
    ("SECRET", "xoxb-123456789012-1234567890123-abcdefABCDEF"),
    ("SECRET", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("SECRET", "AIza" + "SyA-1234567890abcdefghijklmnopqrstu"),
    ("SECRET", JWT),
    ("SECRET", PEM),
]


class TestBuiltinPositives:
    @pytest.mark.parametrize(
        ("entity", "value"), [pytest.param(e, v, id=f"{e}-{v[:24]}") for e, v in POSITIVES]
    )
    def test_value_in_a_sentence_is_found_whole(self, entity: str, value: str) -> None:
        """Each supported format is found, with exact boundaries, inside ordinary prose."""
        text = f"Hello, please use {value} for this, thanks."
        assert [(entity, value)] == found(text)

    @pytest.mark.parametrize(
        ("entity", "value"), [pytest.param(e, v, id=f"{e}-{v[:24]}") for e, v in POSITIVES]
    )
    def test_value_alone_is_found(self, entity: str, value: str) -> None:
        """A value that is the whole text (no neighbours at all) is still found."""
        assert [(entity, value)] == found(value)

    def test_bearer_token_without_the_scheme(self) -> None:
        """A bearer token is found, the word "Bearer" is kept so the text stays readable."""
        text = "Authorization: Bearer abcDEF1234567890ghiJKL"
        assert found(text) == [("SECRET", "abcDEF1234567890ghiJKL")]

    def test_key_running_past_its_bearer_token_is_found_whole(self) -> None:
        """A key that runs on past where the bearer token's characters stop is covered whole."""
        key = "sk-ant-api03-" + "a1B2c3D4e5" * 3 + "_" + "Zz9" * 4
        assert found(f"Authorization: Bearer {key} thanks") == [("SECRET", key)]

    def test_second_bearer_token_in_one_line_is_found(self) -> None:
        """Two headers pasted on one line: both tokens are found, not just the first."""
        text = "Bearer abcdefghijklmnopqrstuvwxBearer tok_9f8e7d6c5b4a3210 done"
        assert [v for _, v in found(text)] == [
            "abcdefghijklmnopqrstuvwxBearer",
            "tok_9f8e7d6c5b4a3210",
        ]

    def test_private_key_without_end_marker(self) -> None:
        """A truncated private key block is still covered up to where it stops."""
        text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASC"
        assert [("SECRET", text)] == found(text)

    def test_ssn_and_phone_with_keyword(self) -> None:
        """Bare digit runs count as an SSN or a phone only right after a word saying so."""
        text = "SSN: 123456789, phone number: 4155552671, order 4155552672"
        assert found(text) == [("US_SSN", "123456789"), ("PHONE", "4155552671")]

    def test_card_followed_by_cvv(self) -> None:
        """A grouped card number followed by its CVV is found without the CVV."""
        assert found("card 4111 1111 1111 1111 123") == [("CREDIT_CARD", "4111 1111 1111 1111")]

    def test_international_number_followed_by_a_count(self) -> None:
        """A +1 number is eleven digits: a following number is not swallowed."""
        assert found("call +1 415 555 2671 2 times") == [("PHONE", "+1 415 555 2671")]


NEGATIVES = [
    pytest.param("order 1234567812345678 shipped", id="16-digit-order-failing-luhn"),
    pytest.param("ref 4111 1111 1111 1112", id="grouped-card-failing-luhn"),
    pytest.param("id 9111111111111111", id="luhn-valid-but-no-issuer"),
    pytest.param("account DE89370400440532013001", id="iban-bad-checksum"),
    pytest.param("account DE89 3704 0044 0532 0130 01", id="spaced-iban-bad-checksum"),
    pytest.param("ZZ89370400440532013000", id="iban-unknown-country"),
    pytest.param("case 000-12-3456", id="ssn-area-000"),
    pytest.param("case 666-12-3456", id="ssn-area-666"),
    pytest.param("case 912-34-5678", id="ssn-area-9xx"),
    pytest.param("case 123-00-4567", id="ssn-group-00"),
    pytest.param("case 123-45-0000", id="ssn-serial-0000"),
    pytest.param("version 1.2.3.4.5", id="version-string"),
    pytest.param("build 10.4.2.1234 released", id="build-number"),
    pytest.param("value 256.1.1.1", id="ip-octet-out-of-range"),
    pytest.param("on 2024-01-15, 15.01.2024 and 01/15/2024", id="dates"),
    pytest.param("at 2024-03-15T10:30:00Z", id="iso-timestamp"),
    pytest.param("at 10:30:45", id="time"),
    pytest.param("uuid 123e4567-e89b-12d3-a456-426614174000", id="uuid"),
    pytest.param("MAC 00:1a:2b:3c:4d:5e", id="mac-address"),
    pytest.param("use std::vector and a::b", id="cpp-scopes"),
    pytest.param("loopback ::1", id="ipv6-loopback"),
    pytest.param("order #4155552671 is late", id="plain-10-digits"),
    pytest.param("total $1,249.99 (12.5%) for 3 units", id="amounts"),
    pytest.param("tracking 1Z999AA10123456784", id="ups-tracking"),
    pytest.param("invoice INV-2024-000123", id="invoice-number"),
    pytest.param("commit 3f2a9c1e5b7d4a6f8e0c2b4d6f8a0c2e4b6d8f0a", id="git-hash"),
    pytest.param("task-12345678-abcdefghijklmnopqrstuvwxyz", id="task-id-with-sk-inside"),
    pytest.param("we use Bearer authentication here", id="bearer-in-prose"),
    pytest.param("mail me @ home or at user@localhost", id="no-domain"),
    pytest.param("[EMAIL_1] and <PHONE_2> and [CREDIT_CARD_13]", id="placeholders"),
]


class TestBuiltinNegatives:
    @pytest.mark.parametrize("text", NEGATIVES)
    def test_near_misses_are_not_reported(self, text: str) -> None:
        """Look-alikes that fail validation are not redacted (no needless damage to text)."""
        assert found(text) == []


class TestConfiguration:
    def test_entities_limit_the_builtin_types(self) -> None:
        """entities= turns off the types not listed."""
        detector = BuiltinDetector(entities=["EMAIL"])
        assert found("a@b.io 192.168.1.1", detector) == [("EMAIL", "a@b.io")]

    def test_unknown_entity_is_a_configuration_error(self) -> None:
        """A typo in entities= is caught when the detector is built, naming the choices."""
        with pytest.raises(ConfigurationError, match="EMAIL"):
            BuiltinDetector(entities=["EMAILS"])

    def test_custom_pattern(self) -> None:
        """A Pattern adds a company-specific entity alongside the built-in ones."""
        detector = BuiltinDetector(custom=[Pattern("EMPLOYEE_ID", r"EMP-\d{6}")])
        text = "EMP-123456 wrote from a@b.io"
        assert found(text, detector) == [("EMPLOYEE_ID", "EMP-123456"), ("EMAIL", "a@b.io")]

    def test_custom_pattern_with_validator(self) -> None:
        """A Pattern's validate= rejects matches the way a checksum would."""
        pattern = Pattern("TICKET", r"T-\d+", validate=lambda v: v.endswith("7"))
        assert found("T-17 T-18", BuiltinDetector(custom=[pattern])) == [("TICKET", "T-17")]

    def test_custom_callable(self) -> None:
        """Any callable returning spans is a detector (e.g. a lookup of known names)."""

        def names(text: str) -> list[Span]:
            i = text.find("Alice")
            return [] if i < 0 else [Span("PERSON", i, i + 5)]

        assert found("Alice called", BuiltinDetector(custom=[names])) == [("PERSON", "Alice")]

    @pytest.mark.parametrize("name", ["employee_id", "1ID", "EMP-ID", ""])
    def test_custom_entity_names_must_be_placeholder_safe(self, name: str) -> None:
        """Entity names must be UPPER_CASE so their placeholders are recognisable."""
        with pytest.raises(ConfigurationError):
            Pattern(name, r"x")

    def test_bad_regex_is_a_configuration_error(self) -> None:
        """A regex that does not compile fails when the Pattern is built, not mid-call."""
        with pytest.raises(ConfigurationError, match="does not compile"):
            Pattern("X", r"(")

    def test_allow_list_exact_values(self) -> None:
        """Allow-listed values (case-insensitive) are never reported."""
        detector = BuiltinDetector(allow=["Support@Company.com"])
        text = "write to support@company.com or jane@company.com"
        assert found(text, detector) == [("EMAIL", "jane@company.com")]

    def test_allow_list_regexes(self) -> None:
        """An allow-listed regex must match the whole value to exempt it."""
        detector = BuiltinDetector(allow=[re.compile(r".*@company\.com")])
        text = "write to support@company.com or jane@other.com"
        assert found(text, detector) == [("EMAIL", "jane@other.com")]

    def test_allow_list_rejects_other_types(self) -> None:
        """An allow-list item that is neither a string nor a regex is a configuration error."""
        with pytest.raises(ConfigurationError):
            BuiltinDetector(allow=[42])  # type: ignore[list-item]

    def test_custom_never_matches_inside_placeholders(self) -> None:
        """A broad custom pattern cannot eat a placeholder, so redaction stays idempotent."""
        detector = BuiltinDetector(custom=[Pattern("WORD", r"[A-Z]+_\d")])
        assert found("[EMAIL_1] AB_1", detector) == [("WORD", "AB_1")]


class TestOverlaps:
    def test_longest_wins(self) -> None:
        """Of two overlapping findings the longer one is kept."""
        spans = [Span("A", 0, 5), Span("B", 2, 10)]
        assert [Span("B", 2, 10)] == resolve_overlaps(spans)

    def test_then_highest_score(self) -> None:
        """Equally long findings: the more confident one is kept."""
        spans = [Span("A", 0, 5, 0.5), Span("B", 1, 6, 0.9)]
        assert [Span("B", 1, 6, 0.9)] == resolve_overlaps(spans)

    def test_then_earliest(self) -> None:
        """Equally long and confident findings: the earlier one is kept."""
        spans = [Span("B", 1, 6), Span("A", 0, 5)]
        assert [Span("A", 0, 5)] == resolve_overlaps(spans)

    def test_disjoint_spans_are_all_kept_in_order(self) -> None:
        """Findings that do not overlap are all kept, sorted by position."""
        spans = [Span("B", 6, 8), Span("A", 0, 5), Span("C", 5, 6)]
        assert [Span("A", 0, 5), Span("C", 5, 6), Span("B", 6, 8)] == resolve_overlaps(spans)

    def test_custom_overlapping_builtin(self) -> None:
        """A custom entity covering a built-in one wins when it is longer."""
        detector = BuiltinDetector(custom=[Pattern("CONTACT", r"mail: \S+@\S+")])
        assert found("mail: a@b.io", detector) == [("CONTACT", "mail: a@b.io")]
