"""Prompt-cache diagnostics: a lint for one prompt and a runtime watch over many calls.

Vendors cache an exact byte prefix. Anything in the static parts of a prompt (system,
context, examples, tools) that changes per call, such as today's date, a request id
or the user's name, turns every call into a cache miss and a cache write. The lint
finds such content in a concrete :class:`~thinllm.Prompt` (one built the way the
application builds it per call), and checks that the static prefix is long enough
for the model to cache at all. :class:`PrefixWatch` watches live traffic for the same
problem: a workflow whose static-prefix hash keeps changing.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from thinllm.pricing._table import candidates

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from thinllm._prompt import Prompt

__all__ = ["LintWarning", "PrefixWatch", "lint_prompt", "min_cacheable_tokens"]

logger = logging.getLogger("thinllm")

#: Characters per token for the length estimate: a rough English-text average.
CHARS_PER_TOKEN = 4
#: Anthropic: at most this many cache breakpoints per request, each looking back at
#: most ``_LOOKBACK`` content blocks for an earlier cache entry.
MAX_BREAKPOINTS = 4
_LOOKBACK = 20

# Minimum cacheable prefix in tokens (reference: vendors' prompt-caching docs).
_ANTHROPIC_MIN = {
    "claude-opus-5": 512,
    "claude-fable-5-1": 512,
    "claude-mythos-5-1": 512,
    "claude-opus-4-8": 1024,
    "claude-sonnet-5": 1024,
    "claude-sonnet-4-6": 1024,
    "claude-sonnet-4-5": 1024,
    "claude-sonnet-4": 1024,
    "claude-opus-4-1": 1024,
    "claude-opus-4": 1024,
    "claude-opus-4-7": 2048,
    "claude-mythos-preview": 2048,
    "claude-opus-4-6": 4096,
    "claude-opus-4-5": 4096,
    "claude-haiku-4-5": 4096,
}
_DEFAULT_MIN = 1024  # OpenAI's documented minimum, and the most common Claude one


@dataclass(frozen=True, slots=True)
class LintWarning:
    """One finding: a stable ``code``, a ``message`` saying what to do, and ``where``.

    ``where`` names the prompt part: ``system``, ``context[0]``, ``examples[2]``,
    ``tools['search'].description``, or ``prompt`` for whole-prompt findings.
    """

    code: str
    message: str
    where: str

    def __str__(self) -> str:
        return f"{self.where}: {self.code}: {self.message}"


def min_cacheable_tokens(model: str | None) -> tuple[int, bool]:
    """The vendor's minimum cacheable prefix for ``model`` and whether it is documented.

    A Claude model missing from the table takes its family predecessor's minimum
    (``claude-opus-5-5`` -> ``claude-opus-5``); others get 1024 (OpenAI's minimum, and
    most Claude models'). Either way the second item is ``False``, so messages can say
    the number is an assumption.
    """
    if model is None:
        return _DEFAULT_MIN, False
    names = list(candidates(model))
    for name in names:
        if name in _ANTHROPIC_MIN:
            return _ANTHROPIC_MIN[name], True
        if name.startswith(("gpt-", "o1", "o3", "o4", "chatgpt-")):
            return _DEFAULT_MIN, True
    for name in names:
        family = name
        while "-" in family.removeprefix("claude-"):
            family = family.rsplit("-", 1)[0]
            if family in _ANTHROPIC_MIN:
                return _ANTHROPIC_MIN[family], False
    return _DEFAULT_MIN, False


# -- what changes between calls ------------------------------------------------------

_ISO_DATETIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?")
_DATE_PATTERNS = (
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "%Y-%m-%d"),
    (re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b"), "%m/%d/%Y %d/%m/%Y"),
    (re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b"), "%d.%m.%Y"),
    (
        re.compile(
            r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}\b"
        ),
        "month-day-year",
    ),
    (
        re.compile(
            r"\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{4}\b"
        ),
        "day-month-year",
    ),
)
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}
_CLOCK_TIME = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")
_EPOCH = re.compile(r"\b1\d{9}(?:\d{3})?\b")
_NOW_PHRASE = re.compile(
    r"(?i)\b(?:today is|today's date|current (?:date|time)|the date is|the time is|as of now)\b"
)
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_PREFIXED_ID = re.compile(
    r"\b(?:req|request|msg|chatcmpl|call|toolu|run|sess|session|trace|span|evt|txn)[_-]"
    r"[A-Za-z0-9]{8,}\b"
)
_HEX_ID = re.compile(r"\b[0-9a-fA-F]{16,}\b")
_ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
_EMAIL = re.compile(r"\b[\w.+-]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b")
_EXAMPLE_DOMAINS = re.compile(r"(?i)(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid)$")
_NAMED_PERSON = re.compile(
    r"(?i:\b(?:user(?:[ _]?name)?|customer|client|caller|account holder|member|employee|"
    r"logged[- ]in as|speaking with|talking to)\b\s*(?:name|id)?\s*(?:[:=]|is)\s*)"
    r"(?P<who>[A-Z@][\w.@-]*(?: [A-Z][\w-]*)?)"
)
_GREETING = re.compile(r"\b(?:Hello|Hi|Hey|Dear|Welcome(?: back)?),? (?P<who>[A-Z][a-z]+)\b")
# Capitalised words after "Dear"/"User:" that address a role, not a person.
_NOT_A_NAME = frozenset(
    {
        *("customer", "customers", "user", "users", "team", "sir", "madam", "there", "all"),
        *("everyone", "assistant", "claude", "colleague", "colleagues", "friend", "friends"),
        *("reader", "agent", "support"),
    }
)


def _mask(text: str) -> str:
    # Findings may be personal data: show enough to find it, not the value itself.
    return text[0] + "***" if text else "***"


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _near(day: datetime, now: datetime, days: int = 7) -> bool:
    return abs((day - now).total_seconds()) <= days * 86_400


def _parse_dates(text: str, fmt: str) -> list[datetime]:
    """Every reading of ``text`` as a date (``01/02/2026`` is ambiguous: both count)."""
    if fmt in ("month-day-year", "day-month-year"):
        parts = re.findall(r"[A-Za-z]+|\d+", text)
        mdy = fmt == "month-day-year"
        try:
            month = _MONTHS[parts[0 if mdy else 1][:3].lower()]
            return [datetime(int(parts[2]), month, int(parts[1 if mdy else 0]), tzinfo=UTC)]
        except (ValueError, KeyError, IndexError):
            return []
    out = []
    for one in fmt.split(" "):
        try:
            out.append(datetime.strptime(text, one).replace(tzinfo=UTC))
        except ValueError:
            continue
    return out


def _volatile(text: str, where: str, now: datetime) -> Iterator[LintWarning]:
    """Findings for content in one static text that probably changes per call."""
    move = "move it into messages (the dynamic part) so the static prefix stays cacheable"
    for m in _ISO_DATETIME.finditer(text):
        yield LintWarning(
            "timestamp", f"timestamp {m.group(0)!r} at char {m.start()}: {move}", where
        )
    timestamps = {m.start() for m in _ISO_DATETIME.finditer(text)}
    for pattern, fmt in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if m.start() in timestamps:
                continue
            # Only dates near today: a fixed date (a policy's effective date) is static,
            # while a date filled in per call is today's when the lint builds the prompt.
            if any(_near(day, now) for day in _parse_dates(m.group(0), fmt)):
                yield LintWarning(
                    "date", f"today's date {m.group(0)!r} at char {m.start()}: {move}", where
                )
    for m in _CLOCK_TIME.finditer(text):
        if not any(m.start() - 11 <= t <= m.start() for t in timestamps):
            yield LintWarning(
                "time", f"time of day {m.group(0)!r} at char {m.start()}: {move}", where
            )
    for m in _EPOCH.finditer(text):
        value = int(m.group(0)[:10])
        if abs(value - now.timestamp()) <= 366 * 86_400:
            yield LintWarning(
                "timestamp", f"epoch timestamp {m.group(0)} at char {m.start()}: {move}", where
            )
    for m in _NOW_PHRASE.finditer(text):
        yield LintWarning(
            "date",
            f"{m.group(0)!r} at char {m.start()} suggests the current date or time is "
            f"filled in here: {move}",
            where,
        )
    uuids = list(_UUID.finditer(text))
    for m in uuids:
        yield LintWarning("uuid", f"UUID {_short(m.group(0))!r} at char {m.start()}: {move}", where)
    inside_uuid = [(u.start(), u.end()) for u in uuids]
    for pattern in (_PREFIXED_ID, _HEX_ID, _ULID):
        for m in pattern.finditer(text):
            if any(a <= m.start() < b for a, b in inside_uuid):
                continue
            token = m.group(0)
            if pattern is not _PREFIXED_ID and not (
                any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
            ):
                continue  # all digits or all letters: a number or a word, not an id
            yield LintWarning(
                "request-id", f"id-like token {_short(token)!r} at char {m.start()}: {move}", where
            )
    for m in _EMAIL.finditer(text):
        if _EXAMPLE_DOMAINS.search(m.group(1)):
            continue
        yield LintWarning(
            "email",
            f"email address {_mask(m.group(0))}@{m.group(1)} at char {m.start()}: if it is the "
            f"user's, {move}; if it is a fixed address (support@...), ignore this code",
            where,
        )
    for pattern in (_NAMED_PERSON, _GREETING):
        for m in pattern.finditer(text):
            if m["who"].lower() in _NOT_A_NAME:
                continue
            yield LintWarning(
                "user-name",
                f"what looks like a user's name or id ({_mask(m['who'])}) at char {m.start()}: "
                f"{move}",
                where,
            )


def _static_parts(prompt: Prompt) -> Iterator[tuple[str, str]]:
    if prompt.system:
        yield "system", prompt.system
    for i, doc in enumerate(prompt.context):
        yield f"context[{i}]", doc
    for i, message in enumerate(prompt.examples):
        yield f"examples[{i}]", message.text
    for tool in prompt.tools:
        yield f"tools[{tool.name!r}].description", tool.description
        yield f"tools[{tool.name!r}].parameters", json.dumps(tool.parameters, ensure_ascii=False)


def _static_blocks(prompt: Prompt) -> int:
    return (1 if prompt.system else 0) + len(prompt.context) + len(prompt.examples)


def _is_claude(model: str | None) -> bool:
    return model is None or any("claude" in name for name in candidates(model))


def lint_prompt(
    prompt: Prompt,
    *,
    model: str | None = None,
    ignore: Iterable[str] = (),
    now: datetime | None = None,
) -> list[LintWarning]:
    """Warnings about ``prompt``'s static prefix that would defeat prompt caching.

    Checks the static parts (system, context, examples, tools) for content that
    changes per call (``timestamp``, ``date``, ``time``, ``uuid``, ``request-id``,
    ``email``, ``user-name``); whether the static prefix reaches the model's minimum
    cacheable length (``short-prefix``; tokens estimated as characters / 4); and
    whether it has more content blocks than Anthropic's breakpoints can cover
    (``too-many-blocks``). Dates count only within a week of ``now`` (default: the
    current time), since a date filled in per call is today's. ``ignore`` skips codes.
    """
    skip = frozenset(ignore)
    now = now or datetime.now(UTC)
    out: list[LintWarning] = []
    for where, text in _static_parts(prompt):
        out.extend(_volatile(text, where, now))
    if prompt.cache is not False:
        minimum, documented = min_cacheable_tokens(model)
        estimate = math.ceil(prompt.static_chars() / CHARS_PER_TOKEN)
        if estimate < minimum:
            for_model = f"for {model}" if model else "for most models (name the model to be exact)"
            assumed = "" if documented or model is None else " (assumed: not in thinllm's table)"
            out.append(
                LintWarning(
                    "short-prefix",
                    f"the static prefix is about {estimate} tokens (estimate: characters / "
                    f"{CHARS_PER_TOKEN}), below the {minimum}-token minimum the vendor caches "
                    f"{for_model}{assumed}; it will not be cached. Add the stable context the "
                    "model needs to reach it, or set Prompt(cache=False) if caching is not "
                    "worth it here",
                    "prompt",
                )
            )
    blocks = _static_blocks(prompt)
    if _is_claude(model) and blocks > _LOOKBACK:
        needed = math.ceil(blocks / _LOOKBACK)
        more = (
            f"more than the {MAX_BREAKPOINTS} Anthropic allows" if needed > MAX_BREAKPOINTS else ""
        )
        out.append(
            LintWarning(
                "too-many-blocks",
                f"the static prefix has {blocks} content blocks; an Anthropic cache breakpoint "
                f"looks back at most {_LOOKBACK} blocks, so covering it takes {needed} "
                f"breakpoints{' (' + more + ')' if more else ''} and thinllm places one. "
                "Merge context documents or examples into fewer, larger blocks",
                "prompt",
            )
        )
    return [w for w in out if w.code not in skip]


class PrefixWatch:
    """Warns (once per workflow, logger ``thinllm``) when a workflow's static prefix churns.

    The pipeline calls ``watch(workflow, prompt_hash)`` per call. When the last
    ``window`` calls of one workflow carry more than ``max_distinct`` different static
    prefix hashes, caching is not working for it: something in the static parts changes
    per call. Constant time per call; after warning, a workflow costs one set lookup.
    """

    def __init__(
        self,
        *,
        window: int = 20,
        max_distinct: int = 3,
        max_workflows: int = 10_000,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.window = window
        self.max_distinct = max_distinct
        self.max_workflows = max_workflows
        self._log = log or logger.warning
        self._recent: dict[str, tuple[deque[str], Counter[str]]] = {}
        self._warned: set[str] = set()
        #: Workflows whose full window holds one hash only, mapped to that hash. A call
        #: with the same hash would leave the window unchanged (one in, the same one
        #: out), so it costs one lookup here: the common steady state of a workflow.
        self._steady: dict[str, str] = {}

    def __call__(self, workflow: str | None, prompt_hash: str | None) -> bool:
        """Note one call; returns ``True`` if this call triggered the warning."""
        if prompt_hash is None:
            return False
        key = workflow if workflow is not None else "<no workflow tag>"
        if self._steady.get(key) == prompt_hash:
            return False
        if key in self._warned:
            return False
        state = self._recent.get(key)
        if state is None:
            if len(self._recent) >= self.max_workflows:
                return False  # bounded memory: stop tracking new workflows
            state = (deque(), Counter())
            self._recent[key] = state
        recent, counts = state
        recent.append(prompt_hash)
        counts[prompt_hash] += 1
        if len(recent) > self.window:
            old = recent.popleft()
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
        if len(counts) <= self.max_distinct:
            if len(counts) == 1 and len(recent) >= self.window:
                self._steady[key] = prompt_hash
            else:
                self._steady.pop(key, None)
            return False
        self._steady.pop(key, None)
        self._warned.add(key)
        del self._recent[key]
        self._log(
            f"thinllm: workflow {key!r} sent {len(counts)} different static prefixes in its "
            f"last {len(recent)} calls, so the prompt cache is mostly missing. Something in "
            "system/context/examples/tools changes per call (a date, an id, a name?): run "
            "`thinllm cache lint` on the prompt and move that content into messages."
        )
        return True

    def reset(self) -> None:
        """Forget all workflows and warnings."""
        self._recent.clear()
        self._warned.clear()
        self._steady.clear()
