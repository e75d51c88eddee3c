"""What one model costs: :class:`ModelPrice` and its optional :class:`LongContextTier`."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from thinllm.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["LongContextTier", "ModelPrice", "NanoRates", "Number", "to_decimal"]

#: What the convenience constructors accept for a price; stored as :class:`~decimal.Decimal`.
Number = Decimal | int | str | float

_RATES = ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read")


def to_decimal(value: object, what: str) -> Decimal:
    """``value`` as a non-negative Decimal; floats go through ``str`` to avoid binary noise."""
    if isinstance(value, bool):  # bool is an int subclass, and never a price
        raise ConfigurationError(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, int | str):
        try:
            out = Decimal(value)
        except InvalidOperation:
            raise ConfigurationError(f"{what} must be a number, got {value!r}") from None
    elif isinstance(value, float):
        out = Decimal(repr(value))
    else:
        raise ConfigurationError(f"{what} must be a number, got {type(value).__name__}")
    if not out.is_finite() or out < 0:
        raise ConfigurationError(f"{what} must be a finite number >= 0, got {value!r}")
    return out


_NANO_PER_UNIT = Decimal(1000)  # 1 USD per million tokens = 1000 nano-USD per token

#: Rates in nano-USD per token, in ``_RATES`` order, when all are whole numbers.
NanoRates = tuple[int, int, int, int, int]


def _coerce_rates(obj: object, owner: str) -> None:
    scaled: list[int] = []
    for name in _RATES:
        value = getattr(obj, name)
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            # Frozen dataclass: coercion has to bypass __setattr__, once, at construction.
            value = to_decimal(value, f"{owner}.{name}")
            object.__setattr__(obj, name, value)
        nano = value * _NANO_PER_UNIT
        if nano == nano.to_integral_value():
            scaled.append(int(nano))
    # Rates with at most three decimals (every shipped one) let cost() add integers,
    # which is exact and several times faster than Decimal arithmetic on the call path.
    object.__setattr__(obj, "nano", tuple(scaled) if len(scaled) == len(_RATES) else None)


@dataclass(frozen=True, slots=True)
class LongContextTier:
    """Prices that replace the base rates when a request's prompt is long.

    Applies to the whole request when its ``input_tokens`` (cached tokens included)
    exceed ``threshold``, as Anthropic (Haiku 5.5 above 100K) and OpenAI (GPT-6.1 Terra
    above 272K) bill it. Rates are USD per million tokens.
    """

    threshold: int
    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal
    #: The rates in nano-USD per token when exact as integers, else ``None`` (derived).
    nano: NanoRates | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int):
            raise ConfigurationError(
                f"LongContextTier.threshold must be an int, got {self.threshold!r}"
            )
        if self.threshold < 0:
            raise ConfigurationError("LongContextTier.threshold must be >= 0")
        _coerce_rates(self, "LongContextTier")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """List price of one model, in USD per million tokens.

    - ``input``: uncached input tokens.
    - ``cache_write_5m`` / ``cache_write_1h``: input tokens written to the prompt cache
      with the short / long TTL. For OpenAI, "5m" is the default TTL (30 minutes) and
      "1h" the extended one (12 hours); for OpenAI models before GPT-5.6, which do not
      bill writes, both equal ``input`` (written tokens are ordinary input tokens).
    - ``cache_read``: input tokens served from the cache.
    - ``output``: output tokens, reasoning/thinking tokens included.
    - ``batch_discount``: the fraction taken off every rate for batch calls
      (``Decimal("0.5")`` = half price).
    - ``long_context``: optional tier that replaces the rates for long prompts.
    - ``provider``, ``source``, ``as_of``, ``note``: where the numbers come from.

    Rates may be given as ``Decimal``, ``int`` or ``str`` (floats are converted via
    ``str``); they are stored as ``Decimal``. :meth:`per_million` fills in sensible
    defaults for a model whose cache prices you do not know.
    """

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal
    batch_discount: Decimal = Decimal(0)
    long_context: LongContextTier | None = None
    provider: str = ""
    source: str = ""
    as_of: date | None = None
    note: str = ""
    #: The rates in nano-USD per token when exact as integers, else ``None`` (derived).
    nano: NanoRates | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        _coerce_rates(self, "ModelPrice")
        discount = self.batch_discount
        if not isinstance(discount, Decimal):
            discount = to_decimal(discount, "ModelPrice.batch_discount")
            object.__setattr__(self, "batch_discount", discount)
        if not (0 <= discount <= 1):
            raise ConfigurationError(
                f"ModelPrice.batch_discount is the fraction off (0..1), got {discount}"
            )
        if self.long_context is not None and not isinstance(self.long_context, LongContextTier):
            raise ConfigurationError("ModelPrice.long_context must be a LongContextTier or None")

    @classmethod
    def per_million(
        cls,
        input: Number,
        output: Number,
        *,
        cache_read: Number | None = None,
        cache_write_5m: Number | None = None,
        cache_write_1h: Number | None = None,
        batch_discount: Number = 0,
        long_context: LongContextTier | None = None,
        provider: str = "",
        source: str = "user",
        as_of: date | None = None,
        note: str = "",
    ) -> ModelPrice:
        """A price from USD-per-million-token numbers, with conservative defaults.

        Unknown cache rates default to the input rate (no discount, no premium), so a
        missing number never makes a call look cheaper than it was; ``cache_write_1h``
        defaults to ``cache_write_5m``.
        """
        inp = to_decimal(input, "input")
        write_5m = inp if cache_write_5m is None else to_decimal(cache_write_5m, "cache_write_5m")
        return cls(
            input=inp,
            output=to_decimal(output, "output"),
            cache_write_5m=write_5m,
            cache_write_1h=(
                write_5m if cache_write_1h is None else to_decimal(cache_write_1h, "cache_write_1h")
            ),
            cache_read=inp if cache_read is None else to_decimal(cache_read, "cache_read"),
            batch_discount=to_decimal(batch_discount, "batch_discount"),
            long_context=long_context,
            provider=provider,
            source=source,
            as_of=as_of,
            note=note,
        )

    def as_dict(self) -> dict[str, object]:
        """The JSON form used in ``prices.json`` (rates as decimal strings)."""
        out: dict[str, object] = {}
        for f in fields(self):
            if not f.init:
                continue
            value = getattr(self, f.name)
            if isinstance(value, Decimal):
                out[f.name] = str(value)
            elif isinstance(value, LongContextTier):
                out[f.name] = _tier_dict(value)
            elif isinstance(value, date):
                out[f.name] = value.isoformat()
            elif value not in (None, ""):
                out[f.name] = value
        return out


def _tier_dict(tier: LongContextTier) -> Mapping[str, object]:
    out: dict[str, object] = {"threshold": tier.threshold}
    out.update({name: str(getattr(tier, name)) for name in _RATES})
    return out
