"""Golden sets: the :class:`Case` record and :func:`load_cases` for JSONL, JSON, CSV and YAML.

A case's ``id`` is its identity across runs; its hash (input, expected and the grader
configuration) says whether two runs saw the *same* case, so comparisons only pair
cases that did not change.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from thinllm.errors import ConfigurationError

__all__ = ["Case", "CaseFileError", "canonical_json", "load_cases", "sha256"]

#: Keys a case may have; anything else is almost always a typo ("expcted").
CASE_KEYS = ("id", "input", "expected", "tags", "metadata", "critical")

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}


def canonical_json(value: Any) -> str:
    """A stable JSON text for hashing: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256(value: Any) -> str:
    """The SHA-256 hex digest of ``canonical_json(value)``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Case:
    """One golden-set item.

    ``input`` is the text, a list of ``{"role", "content"}`` messages, or a dict of
    template variables for the eval's prompt function. ``expected`` is whatever the
    graders compare against (optional). ``critical`` cases gate a deploy on their own:
    one that newly fails in most epochs is a regression whatever the statistics say.
    """

    id: str
    input: Any
    expected: Any = None
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    critical: bool = False
    #: Where the case was read from (``file:line``), for error messages and reports.
    source: str | None = field(default=None, compare=False)

    @property
    def content_hash(self) -> str:
        """A hash of ``input`` and ``expected`` (what the model and graders see)."""
        return sha256({"input": self.input, "expected": self.expected})

    def hash_with(self, graders_fingerprint: str) -> str:
        """The case hash used to pair runs: content plus the grader configuration."""
        return sha256([self.content_hash, graders_fingerprint])[:16]

    def as_dict(self) -> dict[str, Any]:
        """The stored form (as read from a golden set)."""
        return {
            "id": self.id,
            "input": self.input,
            "expected": self.expected,
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
            "critical": self.critical,
        }


class CaseFileError(ConfigurationError):
    """A golden set could not be read. ``problems`` lists ``(where, message)`` pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        shown = [f"{where}: {message}" for where, message in self.problems[:20]]
        more = len(self.problems) - len(shown)
        if more:
            shown.append(f"... and {more} more")
        super().__init__("bad golden set:\n  " + "\n  ".join(shown))


def load_cases(source: str | os.PathLike[str] | Iterable[Mapping[str, Any] | Case]) -> list[Case]:
    """Read a golden set: a ``.jsonl``, ``.json``, ``.csv`` or ``.yaml``/``.yml`` file, or
    an iterable of dicts or :class:`Case` objects.

    Raises :class:`CaseFileError` naming the file and line of every duplicate id,
    missing field, unknown key or unreadable record.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        items = list(_read_file(path))
    else:
        items = [(f"case #{i + 1}", item) for i, item in enumerate(source)]
    problems: list[tuple[str, str]] = []
    cases: list[Case] = []
    first_seen: dict[str, str] = {}
    for where, item in items:
        try:
            case = item if isinstance(item, Case) else _to_case(item, where)
        except _Problem as exc:
            problems.append((where, str(exc)))
            continue
        if case.id in first_seen:
            problems.append((where, f"duplicate id {case.id!r} (first at {first_seen[case.id]})"))
            continue
        first_seen[case.id] = where
        cases.append(case)
    if problems:
        raise CaseFileError(problems)
    if not cases:
        raise CaseFileError([(str(source) if isinstance(source, str) else "cases", "no cases")])
    return cases


class _Problem(Exception):
    pass


def _to_case(item: Any, where: str) -> Case:
    if not isinstance(item, Mapping):
        raise _Problem(f"a case must be an object, got {type(item).__name__}")
    unknown = sorted(set(map(str, item)) - set(CASE_KEYS))
    if unknown:
        raise _Problem(
            f"unknown field(s) {', '.join(unknown)}; a case has {', '.join(CASE_KEYS)} "
            "(put anything else under 'metadata')"
        )
    raw_id = item.get("id")
    if raw_id is None or raw_id == "":
        raise _Problem("missing 'id' (every case needs a stable id so runs can be compared)")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        raise _Problem(f"'id' must be a string or integer, got {type(raw_id).__name__}")
    if "input" not in item or item["input"] is None:
        raise _Problem(f"case {raw_id!r}: missing 'input'")
    value = item["input"]
    _check_input(value, raw_id)
    tags = item.get("tags") or ()
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.replace(";", ",").split(",") if t.strip()]
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise _Problem(f"case {raw_id!r}: 'tags' must be a list of strings")
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise _Problem(f"case {raw_id!r}: 'metadata' must be an object")
    critical = _to_bool(item.get("critical", False), raw_id)
    return Case(
        id=str(raw_id),
        input=value,
        expected=item.get("expected"),
        tags=tuple(tags),
        metadata=dict(metadata),
        critical=critical,
        source=where,
    )


def _check_input(value: Any, case_id: object) -> None:
    if isinstance(value, str | Mapping):
        return
    if isinstance(value, list) and value:
        for i, message in enumerate(value):
            if (
                not isinstance(message, Mapping)
                or message.get("role") not in ("user", "assistant")
                or not isinstance(message.get("content"), str)
            ):
                raise _Problem(
                    f"case {case_id!r}: input message #{i + 1} must be "
                    '{"role": "user"|"assistant", "content": "..."}'
                )
        return
    raise _Problem(
        f"case {case_id!r}: 'input' must be text, a non-empty list of messages or an "
        f"object of template variables, got {type(value).__name__}"
    )


def _to_bool(value: Any, case_id: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise _Problem(f"case {case_id!r}: 'critical' must be true or false, got {value!r}")


def _read_file(path: Path) -> Iterator[tuple[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseFileError([(str(path), "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaseFileError([(str(path), f"cannot read: {exc}")]) from None
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _read_jsonl(path, text)
    elif suffix == ".json":
        yield from _read_json(path, text)
    elif suffix == ".csv":
        yield from _read_csv(path, text)
    elif suffix in (".yaml", ".yml"):
        yield from _read_yaml(path, text)
    else:
        raise CaseFileError([(str(path), "unknown format: use .jsonl, .json, .csv, .yaml or .yml")])


def _read_jsonl(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    problems = []
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            rows.append((where, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append((where, f"invalid JSON: {exc.msg} (column {exc.colno})"))
    if problems:
        raise CaseFileError(problems)
    yield from rows


def _read_json(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseFileError([(f"{path}:{exc.lineno}", f"invalid JSON: {exc.msg}")]) from None
    if isinstance(data, Mapping) and isinstance(data.get("cases"), list):
        data = data["cases"]
        lines: list[int | None] = [None] * len(data)
    elif isinstance(data, list):
        lines = _json_item_lines(text, len(data))
    else:
        raise CaseFileError([(str(path), 'expected a list of cases or {"cases": [...]}')])
    for i, item in enumerate(data):
        line = lines[i]
        yield (f"{path}:{line}" if line else f"{path}: case #{i + 1}"), item


def _json_item_lines(text: str, count: int) -> list[int | None]:
    """Line numbers of the items of a top-level JSON array (the json module keeps none)."""
    decoder = json.JSONDecoder()
    out: list[int | None] = []
    pos = text.index("[") + 1
    while len(out) < count:
        while text[pos] in " \t\r\n,":
            pos += 1
        out.append(text.count("\n", 0, pos) + 1)
        _, pos = decoder.raw_decode(text, pos)
    return out


def _read_csv(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    reader = csv.DictReader(text.splitlines())
    columns = reader.fieldnames or []
    variables = [c for c in columns if c.startswith("input.")]
    if "input" not in columns and not variables:
        raise CaseFileError(
            [(f"{path}:1", "needs an 'input' column or 'input.<variable>' columns")]
        )
    problems: list[tuple[str, str]] = []
    rows: list[tuple[str, Any]] = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        item: dict[str, Any] = {}
        for key, value in row.items():
            if key is None:
                problems.append((where, "more cells than header columns"))
                break
            if key.startswith("input."):
                item.setdefault("input", {})[key[len("input.") :]] = value
            elif key == "metadata" and value:
                try:
                    item["metadata"] = json.loads(value)
                except json.JSONDecodeError:
                    item["metadata"] = value  # reported as "must be an object"
            elif key in ("expected", "tags", "metadata") and value == "":
                continue
            else:
                item[key] = value
        else:
            rows.append((where, item))
    if problems:
        raise CaseFileError(problems)
    yield from rows


def _read_yaml(path: Path, text: str) -> Iterator[tuple[str, Any]]:
    try:
        import yaml
    except ImportError:  # pragma: no cover - pyyaml is in the test extras
        raise CaseFileError(
            [(str(path), "YAML needs PyYAML: pip install 'thinllm[yaml]'")]
        ) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise CaseFileError([(where, f"invalid YAML: {getattr(exc, 'problem', exc)}")]) from None
    finally:
        loader.dispose()
    items_node = node
    if isinstance(data, Mapping) and isinstance(data.get("cases"), list):
        data = data["cases"]
        assert node is not None
        items_node = next(v for k, v in node.value if k.value == "cases")
    if not isinstance(data, list):
        raise CaseFileError([(str(path), "expected a list of cases or a 'cases:' list")])
    assert items_node is not None
    for item, item_node in zip(data, items_node.value, strict=True):
        yield f"{path}:{item_node.start_mark.line + 1}", item
