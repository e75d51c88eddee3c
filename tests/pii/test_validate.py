"""The checksums and range rules behind the built-in detector's precision."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinllm.pii._validate import (
    card_ok,
    iban_checksum_ok,
    iban_length,
    iban_ok,
    ip_ok,
    luhn_ok,
    ssn_ok,
)


class TestLuhn:
    @pytest.mark.parametrize(
        "digits",
        ["4111111111111111", "5500005555555559", "378282246310005", "6011111111111117", "0"],
    )
    def test_valid_numbers_pass(self, digits: str) -> None:
        """Well-known test card numbers pass the Luhn check."""
        assert luhn_ok(digits)

    @pytest.mark.parametrize("digits", ["4111111111111112", "1234567812345678", "79927398710"])
    def test_one_wrong_digit_fails(self, digits: str) -> None:
        """A typo or an order number fails Luhn, so it is not reported as a card."""
        assert not luhn_ok(digits)


class TestCard:
    @pytest.mark.parametrize(
        ("digits", "expected"),
        [
            pytest.param("4111111111111111", True, id="visa-16"),
            pytest.param("4222222222222", True, id="visa-13"),
            pytest.param("378282246310005", True, id="amex-15"),
            pytest.param("2221000000000009", True, id="mastercard-2-series"),
            pytest.param("3530111333300000", True, id="jcb"),
            pytest.param("9111111111111111", False, id="no-scheme-starts-with-9"),
            pytest.param("37828224631000", False, id="amex-with-wrong-length"),
            pytest.param("411111111111", False, id="too-short"),
        ],
    )
    def test_issuer_and_length_must_fit_a_scheme(self, digits: str, expected: bool) -> None:
        """A Luhn-valid number with an impossible issuer prefix or length is not a card."""
        assert expected == card_ok(digits)


# IBAN check digits read letters as numbers: A=10 ... Z=35.
_LETTERS = {ord(c): str(ord(c) - 55) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


class TestIban:
    @pytest.mark.parametrize(
        "iban", ["DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300"]
    )
    def test_valid_ibans_pass(self, iban: str) -> None:
        """Published example IBANs pass mod-97 and the country length."""
        assert iban_ok(iban)

    @pytest.mark.parametrize(
        "iban",
        [
            pytest.param("DE89370400440532013001", id="bad-checksum"),
            pytest.param("DE8937040044053201300", id="wrong-length"),
            pytest.param("ZZ89370400440532013000", id="unknown-country"),
        ],
    )
    def test_invalid_ibans_fail(self, iban: str) -> None:
        """A wrong check digit, length or country is not an IBAN."""
        assert not iban_ok(iban)

    @settings(max_examples=300, deadline=None)
    @given(
        st.sampled_from(["DE", "GB", "NL", "FR", "IT", "ES", "MT", "NO"]),
        st.text(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=40, max_size=40),
        st.integers(min_value=0, max_value=99),
    )
    def test_checksum_alone_agrees_where_the_detector_uses_it(
        self, country: str, body: str, check: int
    ) -> None:
        """On letters and digits of the country's length (all the detector passes it),
        the mod-97 check alone gives the same verdict as the full IBAN check."""
        compact = f"{country}{check:02d}{body}"[: iban_length(country)]
        assert iban_ok(compact) == iban_checksum_ok(compact)
        # The same IBAN with its check digits computed (98 minus the remainder with "00").
        remainder = int((compact[4:] + compact[:2] + "00").translate(_LETTERS)) % 97
        fixed = f"{compact[:2]}{98 - remainder:02d}{compact[4:]}"
        assert iban_ok(fixed) and iban_checksum_ok(fixed)


class TestSsn:
    @pytest.mark.parametrize(
        ("area", "group", "serial", "expected"),
        [
            ("123", "45", "6789", True),
            ("000", "45", "6789", False),
            ("666", "45", "6789", False),
            ("900", "45", "6789", False),
            ("123", "00", "6789", False),
            ("123", "45", "0000", False),
        ],
    )
    def test_only_issued_ranges(self, area: str, group: str, serial: str, expected: bool) -> None:
        """Numbers the SSA never issues (000, 666, 9xx areas, zero groups) are not SSNs."""
        assert expected == ssn_ok(area, group, serial)


class TestIp:
    @pytest.mark.parametrize(
        ("candidate", "version", "expected"),
        [
            ("192.168.1.1", 4, True),
            ("256.1.1.1", 4, False),
            ("192.168.01.1", 4, False),
            ("1.2.3", 4, False),
            ("2001:db8::1", 6, True),
            ("12:30:45", 6, False),
        ],
    )
    def test_addresses_are_validated(self, candidate: str, version: int, expected: bool) -> None:
        """Only syntactically valid addresses count (as the ipaddress module defines them)."""
        assert expected == ip_ok(candidate, version)
