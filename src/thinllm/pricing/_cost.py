"""The cost of one call: normalized usage times the model's rates.

::

    cost = ( uncached_input      * input
           + cache_write_5m_toks * cache_write_5m
           + cache_write_1h_toks * cache_write_1h
           + cache_read_tokens   * cache_read
           + output_tokens       * output ) / 1e6  * (1 - batch_discount if batch else 1)

``uncached_input = input_tokens - cache_read_tokens - cache_write_tokens`` because
``input_tokens`` counts every input token (OpenTelemetry meaning). When the prompt
exceeds the long-context threshold, the tier's rates replace all five. The result is
rounded half-even to :data:`QUANTUM` (one nano-dollar): exact for every shipped rate
without batch, and off by at most half a nano-dollar per call with it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from thinllm._reply import Usage

    from ._model import LongContextTier, ModelPrice

__all__ = ["QUANTUM", "cost"]

#: Costs are rounded to this many USD (1e-9, a nano-dollar).
QUANTUM = Decimal("1e-9")
_MILLION = Decimal(1_000_000)
_ONE = Decimal(1)


def cost(
    usage: Usage,
    price: ModelPrice,
    *,
    batch: bool = False,
    cache_write_1h_tokens: int = 0,
) -> Decimal:
    """USD cost of one call with ``usage`` at ``price`` (see the module docstring).

    ``cache_write_1h_tokens`` (or ``usage.cache_write_1h_tokens``, whichever is larger)
    is the part of the cache writes made with the long TTL; it is capped at
    ``usage.cache_write_tokens``. ``batch=True`` applies the model's batch discount.
    Token counts are expected to be non-negative, as :class:`~thinllm.Usage` holds them.
    """
    # Plain comparisons rather than max()/min() (PLR1730): this runs on every call, and
    # builtin calls cost about twice as much here.
    writes = usage.cache_write_tokens
    long_writes = usage.cache_write_1h_tokens
    if cache_write_1h_tokens > long_writes:  # noqa: PLR1730
        long_writes = cache_write_1h_tokens
    if long_writes > writes:  # noqa: PLR1730
        long_writes = writes
    reads = usage.cache_read_tokens
    uncached = usage.input_tokens - reads - writes
    if uncached < 0:  # noqa: PLR1730 - counts that do not add up never bill a negative line
        uncached = 0
    output = usage.output_tokens
    rates: ModelPrice | LongContextTier = price
    tier = price.long_context
    if tier is not None and usage.input_tokens > tier.threshold:
        rates = tier
    nano = rates.nano
    total: Decimal
    if nano is not None:
        # Integer nano-USD: exact, and the common path (every shipped rate qualifies).
        total = Decimal(
            uncached * nano[0]
            + output * nano[1]
            + (writes - long_writes) * nano[2]
            + long_writes * nano[3]
            + reads * nano[4]
        ).scaleb(-9)
        if not batch:
            return total
    else:
        total = (
            uncached * rates.input
            + output * rates.output
            + (writes - long_writes) * rates.cache_write_5m
            + long_writes * rates.cache_write_1h
            + reads * rates.cache_read
        ) / _MILLION
    if batch:
        total *= _ONE - price.batch_discount
    return total.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)
