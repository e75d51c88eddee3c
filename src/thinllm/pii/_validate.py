"""Checksums and range rules that turn a regex candidate into a confident detection.

Validation is what keeps precision high: a 16-digit order number that fails Luhn is not
a card, an IBAN with a wrong mod-97 check digit is a typo or a reference number, and
``000-12-3456`` was never issued as a Social Security number.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["card_ok", "iban_checksum_ok", "iban_length", "iban_ok", "ip_ok", "luhn_ok", "ssn_ok"]

# Total IBAN length per country (SWIFT IBAN registry, release 2024). A candidate from a
# country not listed here is not an IBAN, which also rejects "AB12..." product codes.
_IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
    "DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
    "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
    "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
    "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
    "YE": 30,
}  # fmt: skip


# Luhn doubles every second digit from the right and adds the digits of the product:
# this table maps a digit to that sum, so the whole check runs in C (bytes.translate,
# and summing the bytes of the digit characters, which is faster than int() per digit).
# The bytes table is a plain lookup; a str table costs a dict lookup per character.
_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")


def luhn_ok(digits: str) -> bool:
    """Whether a string of ASCII digits passes the Luhn (mod 10) check."""
    raw = digits.encode()
    mixed = raw[-1::-2] + raw[-2::-2].translate(_DOUBLED)
    return (sum(mixed) - 48 * len(raw)) % 10 == 0


def _iin_ok(d: str) -> bool:
    """Whether the issuer prefix and the length fit a real card scheme."""
    n = len(d)
    four = int(d[:4])  # one conversion: the shorter prefixes are divisions of it
    two, three = four // 100, four // 10
    if d[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:  # Mastercard
        return n == 16
    if two in (34, 37):  # American Express
        return n == 15
    if 300 <= three <= 305 or two in (36, 38, 39):  # Diners Club
        return 14 <= n <= 19
    if two == 35:  # JCB (3528-3589 today; the whole 35 range has been listed as JCB)
        return 16 <= n <= 19
    if four in (1800, 2131):  # JCB, historical 15-digit range
        return n == 15
    if four == 6011 or 644 <= three <= 649 or two == 65:  # Discover
        return 16 <= n <= 19
    if two in (62, 81):  # UnionPay
        return 16 <= n <= 19
    if two in (50, 56, 57, 58) or d[0] == "6":  # Maestro and other 6-series debit
        return 13 <= n <= 19
    if 2200 <= four <= 2204:  # Mir
        return 16 <= n <= 19
    return False


def card_ok(digits: str) -> bool:
    """Whether 13-19 digits are a plausible payment card number (IIN and Luhn)."""
    return 13 <= len(digits) <= 19 and _iin_ok(digits) and luhn_ok(digits)


def iban_length(country: str) -> int:
    """The IBAN length for a two-letter country code, or 0 if the country has none."""
    return _IBAN_LENGTHS.get(country, 0)


# IBAN check digits read letters as numbers: A=10 ... Z=35. The table is a tuple indexed
# by code point (a character past its end stays as it is): str.translate looks a tuple
# up faster than the dict str.maketrans would build.
_IBAN_LETTERS = tuple(str(c - 55) if c >= ord("A") else chr(c) for c in range(ord("Z") + 1))
# Each registry country code read that way: "DE" -> "1314".
_COUNTRY_NUMBERS = {cc: cc.translate(_IBAN_LETTERS) for cc in _IBAN_LENGTHS}


def iban_ok(compact: str) -> bool:
    """Whether an IBAN without spaces has its country's length and a valid mod-97 check."""
    if len(compact) != _IBAN_LENGTHS.get(compact[:2], -1) or not compact.isalnum():
        return False
    return iban_checksum_ok(compact)


def iban_checksum_ok(compact: str) -> bool:
    """The mod-97 check alone, for letters and digits of a registry country's length.

    The detector calls this directly: its pattern and its own length check have already
    made sure of what ``iban_ok`` checks first.
    """
    # The check reads the IBAN from the fifth character, then the country and check
    # digits, with letters as numbers. Most account parts are all digits: then only the
    # (upper case, registry-checked) country needs converting, which is a lookup; a
    # per-character dict translation is left for account parts with letters.
    rest = compact[4:]
    if rest.isdigit() and rest.isascii() and compact[2:4].isdigit():
        number = rest + _COUNTRY_NUMBERS[compact[:2]] + compact[2:4]
    else:
        number = (rest + compact[:4]).upper().translate(_IBAN_LETTERS)
        if not number.isdigit():
            return False
    return int(number) % 97 == 1


def ssn_ok(area: str, group: str, serial: str) -> bool:
    """Whether the three parts of a US SSN are in issued ranges."""
    a = int(area)
    return not (a in (0, 666) or a >= 900) and group != "00" and serial != "0000"


@cache
def _ipv4_rx() -> re.Pattern[str]:
    # Four decimal octets up to 255 without leading zeros (as ``ipaddress`` reads them),
    # in one C-level match instead of a split and four int() calls.
    octet = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    return re.compile(rf"{octet}\.{octet}\.{octet}\.{octet}")


def ip_ok(candidate: str, version: int) -> bool:
    """Whether ``candidate`` is a valid IP address of this version.

    Both are checked by hand with the rules of ``ipaddress`` (which is several times
    slower): IPv4 as four decimal octets up to 255 without leading zeros; IPv6 as eight
    groups of one to four hex digits, one ``::`` standing for one or more zero groups,
    and an optional IPv4 address in place of the last two groups.
    """
    if version == 4:
        return _ipv4_rx().fullmatch(candidate) is not None
    return _ipv6_ok(candidate)


_HEX = frozenset("0123456789abcdefABCDEF")


def _ipv6_ok(candidate: str) -> bool:
    head, double, tail = candidate.partition("::")
    if "::" in tail:
        return False  # only one run of zero groups may be left out
    groups = (head.split(":") if head else []) + (tail.split(":") if tail else [])
    count = len(groups)
    # An IPv4 address may only end the text ("::1.2.3.4", never "1.2.3.4::").
    if groups and "." in groups[-1] and (tail or not double):
        if not _ipv4_rx().fullmatch(groups.pop()):
            return False
        count += 1  # the IPv4 address stands for two groups
    # Each group is one to four hex digits (tested for all groups at once, in C).
    if "" in groups or max(map(len, groups), default=0) > 4 or not _HEX.issuperset("".join(groups)):
        return False
    return count <= 7 if double else count == 8
