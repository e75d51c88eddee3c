"""The once-per-model warning for a model the price table does not know."""

from __future__ import annotations

import warnings

__all__ = ["UnpricedModelWarning", "reset_warnings", "warn_unpriced"]

#: Past this many distinct unpriced names, stop remembering (and so stop warning):
#: a process that invents model names must not grow memory without bound.
_LIMIT = 1024

_warned: set[str] = set()


class UnpricedModelWarning(UserWarning):
    """A call used a model with no price: ``reply.cost`` is ``None``, tokens are still recorded."""


def warn_unpriced(model: str, *, stacklevel: int = 2) -> bool:
    """Warn that ``model`` has no price, once per model per process.

    Returns whether a warning was emitted. :func:`reset_warnings` (or
    :func:`thinllm.pricing.reset`) forgets which models were warned about.
    """
    if model in _warned or len(_warned) >= _LIMIT:
        return False
    _warned.add(model)
    warnings.warn(
        UnpricedModelWarning(
            f"no price for model {model!r}: reply.cost is None and the audit event records "
            f"tokens only. Add one with thinllm.pricing.register({model!r}, "
            "thinllm.pricing.ModelPrice.per_million(input=..., output=..., cache_read=...)) "
            "or thinllm.pricing.load('prices.json')."
        ),
        stacklevel=stacklevel + 1,
    )
    return True


def reset_warnings() -> None:
    """Forget which models were warned about (for tests)."""
    _warned.clear()
