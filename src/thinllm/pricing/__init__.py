"""Dated list prices for Claude and OpenAI models, and the cost of a call.

>>> from thinllm import pricing
>>> price = pricing.get("claude-haiku-4-5-20251001")      # dated alias -> claude-haiku-4-5
>>> price.input, price.cache_read
(Decimal('1'), Decimal('0.10'))

Prices are USD per million tokens, read lazily from the package's ``prices.json``,
whose compile date is :data:`TABLE_DATE` and whose sources are :data:`TABLE_SOURCES`.
Override or add entries with :func:`register` or :func:`load`; :func:`reset` goes back
to the shipped table. :func:`cost` turns a normalized :class:`~thinllm.Usage` into a
``Decimal`` in USD.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._cost import QUANTUM, cost
from ._model import LongContextTier, ModelPrice
from ._table import PriceTable, TableInfo
from ._warn import UnpricedModelWarning, reset_warnings, warn_unpriced

if TYPE_CHECKING:
    import os
    from datetime import date

__all__ = [
    "QUANTUM",
    "TABLE_DATE",
    "TABLE_SOURCES",
    "LongContextTier",
    "ModelPrice",
    "TableInfo",
    "UnpricedModelWarning",
    "cost",
    "get",
    "load",
    "models",
    "register",
    "reset",
    "warn_unpriced",
]

# The process-wide table. Module state by design: prices are process configuration,
# like logging; reset() restores the shipped table for tests.
_TABLE = PriceTable()

#: The price table's lookup, bound once: ``get(model) -> ModelPrice | None``. Tries the
#: exact name, then without a date suffix, then without a provider prefix
#: (``anthropic/``, ``openai/``), then a Bedrock/Vertex id; answers are cached.
get = _TABLE.get


def register(model: str, price: ModelPrice, *, aliases: tuple[str, ...] = ()) -> None:
    """Add or replace the price of ``model`` (and of any ``aliases`` spellings).

    >>> pricing.register("my-finetune", pricing.ModelPrice.per_million(3, 15))  # doctest: +SKIP
    """
    _TABLE.register(model, price, aliases=aliases)


def load(path: str | os.PathLike[str]) -> TableInfo:
    """Merge a JSON price file in the shipped format; its entries override shipped ones."""
    return _TABLE.load(path)


def models() -> dict[str, ModelPrice]:
    """Every priced model (shipped and registered), by canonical name."""
    return _TABLE.models()


def reset() -> None:
    """Restore the shipped table and forget unpriced-model warnings (for tests)."""
    _TABLE.reset()
    reset_warnings()


def __getattr__(name: str) -> date | dict[str, str]:
    # TABLE_DATE / TABLE_SOURCES read the shipped file on first access, not at import.
    if name in ("TABLE_DATE", "TABLE_SOURCES"):
        from ._table import shipped

        info = shipped()[0]
        return info.as_of if name == "TABLE_DATE" else dict(info.sources)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if TYPE_CHECKING:
    #: Compile date of the shipped price file.
    TABLE_DATE: date
    #: Source id -> description, for the shipped price file.
    TABLE_SOURCES: dict[str, str]
