"""The built-in entity finders: candidates by regex, confidence by validation.

Speed comes from doing as little as possible per character. Python's regex engine skips
quickly to a literal (``@``, ``:``) or to a single character class (a digit), but tries
every position of a pattern that starts with an alternation. So every digit-led entity
(cards, SSNs, phones, IPv4, IBAN check digits) shares *one* pattern that starts with
``[0-9]`` and branches after it; e-mail addresses and IPv6 addresses are anchored on
``@`` and ``:`` found with ``str.find``; secrets run only when a cheap screen finds one
of their literal prefixes. Regexes compile on first use so that ``import thinllm`` stays cheap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from ._base import Span, new_span
from ._validate import card_ok, iban_checksum_ok, iban_length, ip_ok, ssn_ok

__all__ = ["BUILTIN_ENTITIES", "find_builtin"]

#: The entity types the built-in detector knows, in documentation order.
BUILTIN_ENTITIES: tuple[str, ...] = (
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "IBAN",
    "US_SSN",
    "IP_ADDRESS",
    "SECRET",
)

_EXT = r"(?:[ ]?(?:x|ext\.?|extension)[ ]?[0-9]{1,6})"

# The alternatives that follow the first digit, in the order they are tried. Each one is
# also compiled alone so that a candidate that fails validation (say a 16-digit order
# number that fails Luhn) can still be tried as the kinds after it.
_KINDS: tuple[tuple[str, str], ...] = (
    # "+" before the first digit: an international number, +44 20 7946 0958, +1 (415) ...
    ("intl", r"(?<=\+[0-9])(?P<intl>[0-9]{0,2}(?:[ .\-]?(?:\([0-9]{1,4}\)|[0-9]{1,5})){1,7})"
             rf"(?P<intl_x>{_EXT})?"),
    # "(" before it: (415) 555-2671, (0113) 496 0123
    ("paren", r"(?<=\([0-9])(?P<paren>[0-9]{1,4}\)[ ]?[0-9]{2,8}(?:[ .\-][0-9]{2,4}){0,2})"
              rf"(?P<paren_x>{_EXT})?"),
    # two capitals before it: the check digits of an IBAN
    ("iban", r"(?<=[A-Z][A-Z][0-9])(?P<iban>[0-9](?:[ ]?[0-9A-Z]){11,31})"),
    # the issued ranges are checked in the regex: no 000, 666 or 9xx area, 00 group, 0000 serial
    # (the separator is matched before the area is looked back at: most numbers have none)
    ("ssn", r"(?P<ssn>[0-9]{2}(?P<ssep>[- ])(?<!000[- ])(?<!666[- ])(?<!9[0-9]{2}[- ])"
            r"(?!00)[0-9]{2}(?P=ssep)(?!0000)[0-9]{4})"),
    ("ip4", r"(?P<ip4>[0-9]{0,2}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})"),
    ("card", r"(?P<card>(?=[0-9 \-]{12})(?:[ \-]?[0-9]){12,18})"),
    # 415-555-2671, 415.555.2671, 415 555 2671, 1-415-555-2671
    # (the first two forms share their first two digits: matched once, not twice)
    ("nanp", r"(?P<nanp>[0-9]{2}(?:(?P<nsep>[.\-])[0-9]{3}(?P=nsep)[0-9]{4}"
             r"|[ ][0-9]{3}[ ][0-9]{4})"
             r"|[ .\-](?<=1[ .\-])[0-9]{3}[ .\-][0-9]{3}[ .\-][0-9]{4})"
             rf"(?P<nanp_x>{_EXT})?"),
    # a national number with a trunk 0 (or 00 international access), grouped:
    # 020 7946 0958, 07700 900123, 030 1234567, 01 23 45 67 89, 001-415-555-2671
    ("trunk", r"(?<=0)"
              r"(?P<trunk>[0-9]{0,4}[ /\-][0-9]{2,8}(?:[ \-][0-9]{2,4}){0,4})"
              rf"(?P<trunk_x>{_EXT})?"),
    # 9-12 bare digits: a phone or SSN only next to a word that says so, which the gap
    # after it (_GAP) cannot leave right before the number as "#", ";", "!", "?" or a
    # line break: "order #5222977870" is turned away here, before any Python runs
    ("plain", r"(?<![#;!?\n][0-9])(?P<plain>[0-9]{8,11})"),
)  # fmt: skip
_KIND_NAMES = tuple(k for k, _ in _KINDS)
_AFTER_MARK = ("intl", "paren", "iban")  # kinds identified by the character before them
# The first digit must not continue a word, a number or a dotted/dashed run: this one
# check rejects most digits cheaply (the inner digits of ids, hashes and keys).
_GUARD = r"(?<![0-9a-z_.\-][0-9])"
# The kinds in _AFTER_MARK need one of "+", "(" or a capital letter before the first
# digit: one look back for all three saves two at every other number.
_MARK = r"(?<=[+(A-Z][0-9])"
# The kinds not in _AFTER_MARK start a fresh token: no capital letter or "+" before them,
# and at least seven characters of digits and separators ("1.1.1.1" is the shortest),
# which turns away years, amounts and quantities before any alternative is tried.
_TOKEN = r"(?=[0-9 .\-/]{6})(?<![A-Z+][0-9])"
# The candidate must end a token too (a following ".5" makes "1.2.3.4" a version string).
_END = r"(?![0-9A-Za-z_]|[.\-][0-9])"

# A keyword, then a few characters that do not end the clause ("Tel.: ", "phone number
# is "), then the number: "cell piece. order #5222977870" is not a phone.
_GAP = r"\b\.?[^0-9.;!?#\n]{0,16}\Z"
_PHONE_WORDS = (
    r"\b(?:phone|telephone|tel|call|mobile|cell|fax|whatsapp|sms|text|mob|ph|dial|ring"
    r"|reach|contact|landline|hotline)" + _GAP
)
_SSN_WORDS = r"\b(?:ssn|social security(?: number)?|soc\.? sec)" + _GAP

# Secret formats, in five scans: each is led by one literal character, the rarest of its
# formats ("-", "_", "A", "J", "B"), which the regex engine finds as fast as a substring
# search; it looks back for the rest of the prefix only where that character occurs:
# "sk-" is found at its dash, "ghp_" at its underscore, a JWT at the "J" of "eyJ" ("e"
# is the commonest letter). (One scan led by a set of those characters costs more than
# all five: the engine tests a set character by character.) Keys must start a word: the
# negative look-behinds reject "task-…" (never a key) without leaving C. A bearer token
# counts wherever "Bearer " precedes it. The group name says which format matched.
# Each scan runs only if the text has its leading character: ``in`` finds a single
# character with memchr, several times faster than even a literal-led search, and many
# texts have no "_" (or "J", or "B"). (A screen for a longer literal, "eyJ" or "Bearer",
# costs more than the scan it would save.)
_NOT_AFTER = r"(?<![A-Za-z0-9_\-]"
_SECRET_RX = (
    # OpenAI, Anthropic; Slack; private-key blocks
    ("-",
     r"-(?<=sk-)" + _NOT_AFTER + r"sk-)(?P<sk>(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,})"
     r"|-(?<=xox[abposre]-)" + _NOT_AFTER + r"xox.-)(?P<xox>[A-Za-z0-9\-]{10,})"
     r"|-(?P<pem>----BEGIN[ A-Z0-9]*PRIVATE[ ]KEY-----"
     r"(?:(?s:.*?)-----END[ A-Z0-9]*PRIVATE[ ]KEY-----|[A-Za-z0-9+/=\s:,\-]*))"),
    # Stripe sk_/rk_ live and test keys; GitHub personal, OAuth, user, server and refresh
    # tokens, fine-grained PATs
    ("_",
     r"_(?<=[sr]k_)" + _NOT_AFTER + r"[sr]k_)(?P<stripe>(?:live|test)_[A-Za-z0-9]{16,})"
     r"|_(?<=gh[pousr]_)" + _NOT_AFTER + r"gh._)(?P<gh>[A-Za-z0-9]{36,})"
     r"|_(?<=github_)" + _NOT_AFTER + r"github_)(?P<ghpat>pat_[A-Za-z0-9_]{22,})"),
    # AWS access key ids, Google API keys
    ("A",
     r"A" + _NOT_AFTER + r"A)(?:(?P<aws>(?:KIA|SIA)[0-9A-Z]{16}(?![0-9A-Za-z]))"
     r"|(?P<google>Iza[0-9A-Za-z_\-]{35}))"),
    # JWT
    ("J",
     r"J(?<=eyJ)" + _NOT_AFTER + r"eyJ)"
     r"(?P<jwt>[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*)"),
    ("B", r"B(?P<bearer>earer[ ]+(?P<token>[A-Za-z0-9\-._~+/]{16,}=*))"),
)  # fmt: skip
# How many characters of each format come before the one its alternative is led by.
_SECRET_LEAD = {
    "sk": 2,
    "xox": 4,
    "pem": 0,
    "stripe": 2,
    "gh": 3,
    "ghpat": 6,
    "aws": 0,
    "google": 0,
    "jwt": 2,
}
# One search that finds nothing in most short texts: every built-in entity needs one of
# these to be present (a digit for the digit-led kinds, "@" for e-mail, ":" for IPv6, and
# each secret screen above: "-", "_", "AKIA"/"ASIA"/"AIza", "eyJ", "Bearer"). A single
# leading character class lets the regex engine scan in its tight loop; the lookbehinds
# confirm the longer screens only where their last letter occurs. Without a hit, the
# per-entity passes (each a call and a scan of its own) are skipped: a short message with
# no PII then costs one search.
_ANY_SIGN = (
    r"[-_:@0-9AJB]"
    r"(?:(?<=[-_:@0-9])|(?<=A)(?:KIA|SIA|Iza)|(?<=eyJ)|(?<=B)earer)"
)
# Longer texts skip the screen: nearly all of them have a digit, dash or colon early
# on, so the search would cost a call and find one (the passes find the same spans).
_SCREENED = 400
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_DIGIT_CHARS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class _Rx:
    """The compiled patterns, built once on first use."""

    any_sign: re.Pattern[str]
    digits: re.Pattern[str]
    groups: re.Pattern[str]
    phone_words: re.Pattern[str]
    ssn_words: re.Pattern[str]
    email_local_rev: re.Pattern[str]
    email_domain: re.Pattern[str]
    colon: re.Pattern[str]
    hex_rev: re.Pattern[str]
    ip6_right: re.Pattern[str]
    secrets: tuple[tuple[str, re.Pattern[str]], ...]


def _alternation(kinds: tuple[tuple[str, str], ...]) -> str:
    """One pattern that tries ``kinds`` in order after the first digit (see _KINDS)."""
    marked = "|".join(f"(?:{body})" for k, body in kinds if k in _AFTER_MARK)
    tokens = "|".join(f"(?:{body})" for k, body in kinds if k not in _AFTER_MARK)
    branches = ([f"{_MARK}(?:{marked})"] if marked else []) + (
        [f"{_TOKEN}(?:{tokens})"] if tokens else []
    )
    return f"[0-9]{_GUARD}(?:{'|'.join(branches)}){_END}"


@cache
def _rx() -> _Rx:
    return _Rx(
        any_sign=re.compile(_ANY_SIGN),
        digits=re.compile(_alternation(_KINDS)),
        groups=re.compile(r"\([0-9]+\)|[0-9]+"),
        phone_words=re.compile(_PHONE_WORDS, re.IGNORECASE),
        ssn_words=re.compile(_SSN_WORDS, re.IGNORECASE),
        email_local_rev=re.compile(r"[A-Za-z0-9._%+\-]{1,64}"),
        email_domain=re.compile(
            r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"
        ),
        # Every IPv6 address has "::" or at least six colons (seven, or six before an
        # IPv4 tail): look for "::" or six colons between hex groups, which skips
        # "Subject: ", URLs, "10:30", "12:26:32" and MAC addresses (five colons)
        # without leaving C. Both branches start with a character the engine tests
        # before entering the branch, so ": " fails without a look-behind; the groups
        # are written out (a counted group costs more per colon than five copies).
        colon=re.compile(
            r":(?::|[0-9A-Fa-f](?<=[0-9A-Fa-f]:[0-9A-Fa-f])[0-9A-Fa-f]{0,3}:"
            r"[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:)"
        ),
        hex_rev=re.compile(r"[0-9A-Fa-f:]{1,45}"),
        ip6_right=re.compile(r"[0-9A-Fa-f:.]{1,45}"),
        secrets=tuple((screen, re.compile(rx)) for screen, rx in _SECRET_RX),
    )


def find_builtin(text: str, wanted: frozenset[str], out: list[Span]) -> None:
    """Append the spans of every ``wanted`` built-in entity in ``text`` to ``out``."""
    if len(text) <= _SCREENED and _rx().any_sign.search(text) is None:
        return  # no entity can start anywhere in the text (see _ANY_SIGN)
    if "EMAIL" in wanted and "@" in text:
        _emails(text, out)
    if "IP_ADDRESS" in wanted and ":" in text:
        _ipv6(text, out)
    if "SECRET" in wanted:
        _secrets(text, out)
    if not wanted.isdisjoint(_DIGIT_ENTITIES):
        _digits(text, wanted, out)


_DIGIT_ENTITIES = frozenset({"PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS"})
_KIND_ENTITY = {
    "intl": "PHONE",
    "paren": "PHONE",
    "nanp": "PHONE",
    "trunk": "PHONE",
    "plain": "PHONE",
    "iban": "IBAN",
    "ssn": "US_SSN",
    "ip4": "IP_ADDRESS",
    "card": "CREDIT_CARD",
}


def _emails(text: str, out: list[Span]) -> None:
    rx = _rx()
    at = text.find("@")
    while at != -1:
        lo = max(0, at - 64)
        local = rx.email_local_rev.match(text[lo:at][::-1])
        domain = rx.email_domain.match(text, at + 1)
        nxt = at + 1
        if local is not None and domain is not None:
            start = at - local.end()
            while start < at and text[start] == ".":  # a local part cannot start with a dot
                start += 1
            if start < at and text[at - 1] != ".":
                out.append(new_span("EMAIL", start, domain.end(), 1.0))
                nxt = domain.end()
        at = text.find("@", nxt)


def _ipv6(text: str, out: list[Span]) -> None:
    rx = _rx()
    pos = 0
    while True:
        m = rx.colon.search(text, pos)
        if m is None:
            return
        i = m.start()
        left = rx.hex_rev.match(text[max(0, i - 45) : i][::-1])
        start = i - (left.end() if left is not None else 0)
        right = rx.ip6_right.match(text, i)
        end = right.end() if right is not None else i + 1
        while end > i and text[end - 1] == ".":
            end -= 1
        if _ipv6_ok(text, start, end):
            out.append(new_span("IP_ADDRESS", start, end, 0.95))
        pos = max(end, i + 1)


def _ipv6_ok(text: str, start: int, end: int) -> bool:
    if (start > 0 and (text[start - 1] in _WORD or text[start - 1] == ".")) or (
        end < len(text) and text[end] in _WORD
    ):
        return False
    candidate = text[start:end]
    colons = candidate.count(":")
    # Eight groups, or "::" for the zeros: a cheap filter for times and MAC addresses.
    full = colons == 7 or (colons == 6 and "." in candidate)
    if colons < 2 or not (full or "::" in candidate) or not ip_ok(candidate, 6):
        return False
    # "a::b" in prose or "::1" loopback are not worth a placeholder: ask for two groups
    # and a digit, which every routable address written out by a person has.
    groups = candidate.split(":")
    return len(groups) - groups.count("") >= 2 and not _DIGIT_CHARS.isdisjoint(candidate)


def _secrets(text: str, out: list[Span]) -> None:
    for screen, pattern in _rx().secrets:
        if screen not in text:
            continue  # no format of this scan can match
        search = pattern.search
        m = search(text)
        while m is not None:
            name = m.lastgroup or ""
            if name == "bearer":
                token = m.group("token")
                # "Bearer authentication" is prose; a token has digits or length
                if len(token) >= 24 or any(c.isdigit() for c in token):
                    out.append(new_span("SECRET", m.start("token"), m.end(), 1.0))
            else:
                out.append(new_span("SECRET", m.start() - _SECRET_LEAD[name], m.end(), 1.0))
            # Resume inside the match: a format that starts within it may run further
            # ("Bearer sk-ant-…_…": the bearer token stops at "_", the key does not).
            m = search(text, m.start() + 1)


def _digits(text: str, wanted: frozenset[str], out: list[Span]) -> None:
    """Append the digit-led entities: one search per candidate, then its kind's check."""
    search = _rx().digits.search
    m = search(text)
    while m is not None:
        start = m.start()
        kind = m.lastgroup or ""
        if kind not in _CHECKS:  # a separator or extension group closed last
            kind = _main_kind(m)
        span = _CHECKS[kind](text, m, kind, wanted) if _KIND_ENTITY[kind] in wanted else None
        if span is None and kind != "iban":
            # Try the kinds after this one at the same start: a 13-digit number that is
            # not a card may still be a grouped phone number. (Every kind after "card"
            # needs a separator within 12 digits: a bare run of 13+ digits cannot be one.)
            bare = kind == "card" and m.group().isdigit()
            span = None if bare else _later_kinds(text, start, kind, wanted)
        if span is not None:
            out.append(span)
            # Resume after the span, or after the first digit if the span ends before
            # it (a comparison rather than max(), a builtin call per finding).
            pos = span.end if span.end > start else start + 1
        elif kind in ("iban", "card"):
            # An IBAN-shaped string that fails its checksum has nothing inside; nor has a
            # grouped number that is neither a card nor anything else ("ref 5055 0453
            # 1698 9296" has no phone in it).
            pos = m.end()
        else:
            pos = start + 1
        m = search(text, pos)


def _later_kinds(text: str, start: int, kind: str, wanted: frozenset[str]) -> Span | None:
    """The span of the first kind after ``kind`` that matches at ``start`` and passes."""
    while kind != _KIND_NAMES[-1]:
        m = _later_rx(kind).match(text, start)
        if m is None:
            return None  # none of the later kinds matches: one match call said so
        kind = m.lastgroup or ""
        if kind not in _CHECKS:
            kind = _main_kind(m)
        if _KIND_ENTITY[kind] in wanted:
            span = _CHECKS[kind](text, m, kind, wanted)
            if span is not None:
                return span
    return None


@cache
def _later_rx(kind: str) -> re.Pattern[str]:
    """The kinds after ``kind``, in order, as one pattern (compiled when first needed).

    One match finds the first of them that fits, where trying each kind's own pattern
    took a call per kind; if that one fails its check, the kinds after it are next.
    """
    return re.compile(_alternation(_KINDS[_KIND_NAMES.index(kind) + 1 :]))


def _main_kind(m: re.Match[str]) -> str:
    """The kind whose group matched, when one of its inner groups closed last."""
    groups = m.groupdict()
    return next(kind for kind in _KIND_NAMES if groups.get(kind) is not None)


def _card(text: str, m: re.Match[str], kind: str, wanted: frozenset[str]) -> Span | None:
    """A card number: issuer range and Luhn check, or its longest valid run of groups."""
    start, end = m.span()
    candidate = text[start:end]
    digits = candidate.replace(" ", "").replace("-", "")
    if card_ok(digits):
        return new_span("CREDIT_CARD", start, end, 1.0)
    if len(digits) == len(candidate):
        return None
    # Grouped digits can run into a neighbour ("4111 1111 1111 1111 123" with a CVV):
    # try the longest run of whole groups that is a valid card. The regex puts exactly
    # one separator between groups, so the groups and their offsets come from a split.
    groups = candidate.replace("-", " ").split(" ")
    if len(digits) - min(len(groups[0]), len(groups[-1])) < 13:
        return None  # every shorter run drops an end group: too few digits for a card
    offsets = [start]
    for g in groups:
        offsets.append(offsets[-1] + len(g) + 1)
    before = [0]
    for g in groups:
        before.append(before[-1] + len(g))
    runs = [
        (before[j] - before[i], i, j)
        for i in range(len(groups))
        for j in range(i + 1, len(groups) + 1)
        if 13 <= before[j] - before[i] <= 19 and (i, j) != (0, len(groups))
    ]
    for _, i, j in sorted(runs, key=lambda r: (-r[0], r[1])):
        if card_ok("".join(groups[i:j])):
            return new_span("CREDIT_CARD", offsets[i], offsets[j] - 1, 1.0)
    return None


def _iban(text: str, m: re.Match[str], kind: str, wanted: frozenset[str]) -> Span | None:
    """The match runs from the check digits; the country code is the two letters before."""
    start = m.start() - 2
    candidate = m.group()
    if start > 0 and text[start - 1] in _WORD:
        return None
    length = iban_length(text[start : start + 2])
    if not length:
        return None
    need = length - 2
    if " " not in candidate:  # written compact: it must be exactly the country's length
        end = start + length
        if len(candidate) != need or (end < len(text) and text[end] in _WORD):
            return None
        return new_span("IBAN", start, end, 1.0) if iban_checksum_ok(text[start:end]) else None
    # The regex may run on into a following word ("... 0130 00 ABCD"): keep exactly
    # the country's length, which must end a whole space-separated group. The running
    # group lengths are summed in C (accumulate) rather than in a Python loop.
    ends = list(accumulate(map(len, candidate.split(" "))))
    if need not in ends:
        return None  # too short, or the IBAN would end inside a group
    # The country code, ``need`` characters, and one space between each two groups.
    end = start + 2 + need + ends.index(need)
    if end < len(text) and text[end] in _WORD:
        return None
    if not iban_checksum_ok(text[start:end].replace(" ", "")):
        return None
    return new_span("IBAN", start, end, 1.0)


def _ssn(text: str, m: re.Match[str], kind: str, wanted: frozenset[str]) -> Span | None:
    """A dashed or spaced SSN: the pattern alone decides."""
    start, end = m.span()
    return new_span("US_SSN", start, end, 0.9)  # the regex checked the issued ranges


def _ip4(text: str, m: re.Match[str], kind: str, wanted: frozenset[str]) -> Span | None:
    """Four dotted numbers that are valid octets."""
    start, end = m.span()
    return new_span("IP_ADDRESS", start, end, 0.95) if ip_ok(m.group(), 4) else None


def _nanp(text: str, m: re.Match[str], kind: str, wanted: frozenset[str]) -> Span | None:
    """A North American number in one of its written forms: the pattern alone decides."""
    start, end = m.span()
    return new_span("PHONE", start, end, 0.8)  # the regex fixed the digit count (10, or 11 with 1)


# Deleted to count the digits of a phone number (whose characters are all ASCII).
_ASCII_DIGITS = b"0123456789"


def _phone(text: str, m: re.Match[str], kind: str, wanted: frozenset[str]) -> Span | None:
    """An international, bracketed or trunk-prefixed number with a plausible digit count."""
    start = m.start()
    body_end = m.end(kind)
    if kind in ("intl", "paren"):
        start -= 1  # include the "+" or "("
        if start > 0 and text[start - 1] in _WORD:
            return None
    # The digits dialled: every digit of the number but the "(0)" of "+44 (0)20 ...".
    # (Counted by deleting the digits in C, not by a findall and a call per group; as
    # bytes, since str.translate looks each character up in a dict.)
    body = text[start:body_end]
    total = len(body) - len(body.encode().translate(None, _ASCII_DIGITS)) - body.count("(0)")
    first = text[m.start()]
    if kind == "intl":
        limit, floor = (11, 11) if first == "1" else (15, 8)
    elif kind == "trunk" and text[m.start() : m.start() + 2] == "00":
        limit, floor = 15, 10
    elif kind == "trunk":
        limit, floor = 12, 9
    else:
        limit, floor = 12, 9
    end = m.end()
    if total > limit:
        # A number followed by another number ("+1 415 555 2671 2 times"): drop whole
        # trailing groups until the count fits, and the extension with them.
        found = list(_rx().groups.finditer(text, start, body_end))
        tokens = [g.span() for g in found]
        counts = [_dialled(g.group()) for g in found]
        while tokens and total > limit:
            tokens.pop()
            total -= counts.pop()
        if not tokens:
            return None
        end = tokens[-1][1]
    if total < floor:
        return None
    return new_span("PHONE", start, end, 0.8 if kind in ("intl", "paren") else 0.7)


def _dialled(group: str) -> int:
    """Digits dialled in one group; the "(0)" of "+44 (0)20 ..." is not dialled."""
    if group[0] != "(":
        return len(group)
    return 0 if group == "(0)" else len(group) - 2


def _plain(text: str, m: re.Match[str], kind: str, wanted: frozenset[str]) -> Span | None:
    """Bare digits: a phone or an SSN only right after a keyword that says so."""
    start, end = m.span()
    rx = _rx()
    before = text[max(0, start - 32) : start]
    if end - start == 9 and "US_SSN" in wanted and rx.ssn_words.search(before):
        d = text[start:end]
        return new_span("US_SSN", start, end, 0.6) if ssn_ok(d[:3], d[3:5], d[5:]) else None
    if "PHONE" in wanted and rx.phone_words.search(before):
        return new_span("PHONE", start, end, 0.5)
    return None


# Each kind's check: the span a candidate of that kind stands for, or None.
_CHECKS: dict[str, Callable[[str, re.Match[str], str, frozenset[str]], Span | None]] = {
    "intl": _phone,
    "paren": _phone,
    "iban": _iban,
    "ssn": _ssn,
    "ip4": _ip4,
    "card": _card,
    "nanp": _nanp,
    "trunk": _phone,
    "plain": _plain,
}
