"""The price table: parsing ``prices.json``, registering overrides, resolving model names.

Lookups sit on every call's path, so :meth:`PriceTable.get` is one dict lookup once a
name has been seen; the first sight of a name walks its candidate spellings (dated
alias, provider prefix, Bedrock/Vertex ids) and caches the answer, ``None`` included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thinllm.errors import ConfigurationError

from ._model import LongContextTier, ModelPrice, to_decimal

if TYPE_CHECKING:
    import os
    from collections.abc import Iterator, Mapping

__all__ = ["PriceTable", "TableInfo", "candidates", "parse_table", "shipped"]

#: Stop caching new spellings past this many, so arbitrary model strings cannot grow
#: memory without bound (the table itself is small).
_CACHE_LIMIT = 4096

_DATE_SUFFIX = re.compile(r"(?:-\d{8}|-\d{4}-\d{2}-\d{2}|@\d{8}|@\d{4}-\d{2}-\d{2}|@latest)$")
# Bedrock ids: "[us.|eu.|apac.|global.]anthropic.claude-haiku-4-5-20251001-v1:0".
_BEDROCK = re.compile(r"^(?:[a-z]{2,6}\.)?anthropic\.(?P<name>.+?)(?:-v\d+(?::\d+)?)?$")

_RATE_KEYS = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")
_ENTRY_KEYS = frozenset(
    (
        *_RATE_KEYS,
        "batch_discount",
        "long_context",
        "provider",
        "source",
        "as_of",
        "note",
        "aliases",
    )
)


@dataclass(frozen=True, slots=True)
class TableInfo:
    """Metadata of a price file: when it was compiled and where its numbers come from."""

    as_of: date
    sources: Mapping[str, str]


def candidates(model: str) -> Iterator[str]:
    """Spellings to try for ``model``, most specific first.

    Exact name, then without a date suffix (``-20251001``, ``-2026-04-23``, Vertex
    ``@20251001``), then without a provider prefix (``anthropic/``, ``openai/``,
    ``azure/``...), then a Bedrock id reduced to the plain model name. Lower-cased
    forms come last.
    """
    seen: set[str] = set()
    todo = [model]
    lowered = model.lower()
    if lowered != model:
        todo.append(lowered)
    while todo:
        name = todo.pop(0)
        if name in seen or not name:
            continue
        seen.add(name)
        yield name
        undated = _DATE_SUFFIX.sub("", name)
        if undated != name:
            todo.append(undated)
        if "/" in name:
            todo.append(name.rsplit("/", 1)[1])
        m = _BEDROCK.match(name)
        if m:
            todo.append(m["name"])


def _date(value: object, where: str) -> date:
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: as_of must be an ISO date string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{where}: as_of {value!r} is not an ISO date") from None


def _entry(name: str, raw: Any, default_as_of: date | None) -> ModelPrice:
    where = f"price entry {name!r}"
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where} must be an object")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}")
    missing = [k for k in ("input", "output") if k not in raw]
    if missing:
        raise ConfigurationError(f"{where}: missing {missing}")
    tier = None
    if raw.get("long_context") is not None:
        lc = raw["long_context"]
        if not isinstance(lc, dict) or "threshold" not in lc:
            raise ConfigurationError(f"{where}: long_context needs a threshold and rates")
        tier = LongContextTier(
            threshold=lc["threshold"],
            **{
                k: to_decimal(lc.get(k, raw.get(k)), f"{where}.long_context.{k}")
                for k in _RATE_KEYS
            },
        )
    as_of = _date(raw["as_of"], where) if "as_of" in raw else default_as_of
    return ModelPrice.per_million(
        raw["input"],
        raw["output"],
        cache_read=raw.get("cache_read"),
        cache_write_5m=raw.get("cache_write_5m"),
        cache_write_1h=raw.get("cache_write_1h"),
        batch_discount=raw.get("batch_discount", 0),
        long_context=tier,
        provider=str(raw.get("provider", "")),
        source=str(raw.get("source", "")),
        as_of=as_of,
        note=str(raw.get("note", "")),
    )


def parse_table(data: Any) -> tuple[TableInfo, dict[str, ModelPrice], dict[str, str]]:
    """Parse the ``prices.json`` form: metadata, prices by name, and alias -> name."""
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise ConfigurationError('a price file is a JSON object with a "models" object')
    info = TableInfo(
        as_of=_date(data.get("as_of"), "price file"),
        sources=dict(data.get("sources") or {}),
    )
    prices: dict[str, ModelPrice] = {}
    aliases: dict[str, str] = {}
    for name, raw in data["models"].items():
        prices[name] = _entry(name, raw, info.as_of)
        for alias in raw.get("aliases", ()):
            aliases[str(alias)] = name
    return info, prices, aliases


def shipped() -> tuple[TableInfo, dict[str, ModelPrice], dict[str, str]]:
    """The table shipped inside the package (``thinllm/pricing/prices.json``)."""
    text = resources.files(__package__).joinpath("prices.json").read_text(encoding="utf-8")
    return parse_table(json.loads(text))


@dataclass(slots=True)
class PriceTable:
    """Prices by model name, with overrides and a resolution cache. One per process."""

    info: TableInfo | None = None
    _prices: dict[str, ModelPrice] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)
    _resolved: dict[str, ModelPrice | None] = field(default_factory=dict)
    _loaded: bool = False

    def _ensure_loaded(self) -> None:
        # The shipped file is read on first use, not at import: `import thinllm` stays fast.
        if not self._loaded:
            info, prices, aliases = shipped()
            self.info = info
            # Overrides registered before first use win over shipped entries.
            self._prices = {**prices, **self._prices}
            self._aliases = {**aliases, **self._aliases}
            self._loaded = True

    def get(self, model: str) -> ModelPrice | None:
        """The price for ``model`` (see :func:`candidates` for the spellings tried)."""
        try:
            return self._resolved[model]
        except KeyError:
            return self._resolve(model)

    def _resolve(self, model: str) -> ModelPrice | None:
        self._ensure_loaded()
        found: ModelPrice | None = None
        for name in candidates(model):
            found = self._prices.get(name) or self._prices.get(self._aliases.get(name, ""))
            if found is not None:
                break
        if len(self._resolved) < _CACHE_LIMIT:
            self._resolved[model] = found
        return found

    def register(self, model: str, price: ModelPrice, *, aliases: tuple[str, ...] = ()) -> None:
        """Add or replace ``model``'s price (and optional alias spellings)."""
        if not isinstance(price, ModelPrice):
            raise ConfigurationError(
                "register() takes a thinllm.pricing.ModelPrice; build one with "
                "ModelPrice.per_million(input, output, cache_read=..., ...)"
            )
        if not isinstance(model, str) or not model:
            raise ConfigurationError("register() needs a model name")
        self._ensure_loaded()
        self._prices[model] = price
        for alias in aliases:
            self._aliases[alias] = model
        self._resolved.clear()

    def load(self, path: str | os.PathLike[str]) -> TableInfo:
        """Merge a price file (same format as the shipped one); its entries win."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigurationError(f"cannot read price file {str(path)!r}: {exc}") from exc
        info, prices, aliases = parse_table(data)
        self._ensure_loaded()
        self._prices.update(prices)
        self._aliases.update(aliases)
        self._resolved.clear()
        return info

    def models(self) -> dict[str, ModelPrice]:
        """A copy of every priced model, shipped and registered."""
        self._ensure_loaded()
        return dict(self._prices)

    def reset(self) -> None:
        """Back to the shipped table, dropping overrides and cached resolutions."""
        self.info = None
        self._prices = {}
        self._aliases = {}
        self._resolved = {}
        self._loaded = False
