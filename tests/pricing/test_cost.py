"""The arithmetic of reply.cost: token classes, batch, long context, rounding."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinllm import pricing
from thinllm._reply import Usage
from thinllm.pricing import LongContextTier, ModelPrice

SHIPPED = sorted(pricing.models())
TOKENS = st.integers(min_value=0, max_value=2_000_000)


@st.composite
def usages(draw: st.DrawFn, max_input: int = 2_000_000) -> Usage:
    """A valid normalized usage: cache reads and writes are parts of input_tokens."""
    reads = draw(st.integers(0, max_input))
    writes = draw(st.integers(0, max_input - reads))
    long_writes = draw(st.integers(0, writes))
    uncached = draw(st.integers(0, max_input - reads - writes))
    return Usage(
        input_tokens=uncached + reads + writes,
        output_tokens=draw(TOKENS),
        cache_read_tokens=reads,
        cache_write_tokens=writes,
        cache_write_1h_tokens=long_writes,
    )


def _flat(name: str) -> ModelPrice:
    """The shipped price without its long-context tier, so sums stay in one tier."""
    p = pricing.get(name)
    assert p is not None
    return ModelPrice(
        p.input, p.output, p.cache_write_5m, p.cache_write_1h, p.cache_read, p.batch_discount
    )


class TestCost:
    def test_each_token_class_at_its_own_rate(self) -> None:
        """A bill line per token class: uncached input, 5m and 1h writes, reads and output."""
        price = ModelPrice.per_million(
            3, 15, cache_write_5m="3.75", cache_write_1h=6, cache_read="0.30"
        )
        usage = Usage(
            input_tokens=10_000,
            output_tokens=1_000,
            cache_read_tokens=5_000,
            cache_write_tokens=3_000,
            cache_write_1h_tokens=1_000,
        )
        expected = (
            2_000 * Decimal(3)
            + 2_000 * Decimal("3.75")
            + 1_000 * Decimal(6)
            + 5_000 * Decimal("0.30")
            + 1_000 * Decimal(15)
        ) / 1_000_000
        assert expected == pricing.cost(usage, price)

    def test_openai_cached_tokens_are_not_double_counted(self) -> None:
        """Cached tokens inside input_tokens are billed once, at the cached rate."""
        price = pricing.get("gpt-6-sol")
        assert price is not None
        usage = Usage(input_tokens=2_000, output_tokens=0, cache_read_tokens=1_500)
        assert Decimal("0.0013") == pricing.cost(usage, price)  # 500*2 + 1500*0.2 per M

    def test_1h_keyword_overrides_missing_usage_field(self) -> None:
        """Callers that know the 1h share separately can pass it as a keyword."""
        price = pricing.get("claude-haiku-4-5")
        assert price is not None
        usage = Usage(input_tokens=1_000_000, cache_write_tokens=1_000_000)
        assert Decimal(2) == pricing.cost(usage, price, cache_write_1h_tokens=1_000_000)
        assert Decimal("1.25") == pricing.cost(usage, price)

    def test_1h_share_is_capped_at_the_writes(self) -> None:
        """A vendor reporting more 1h writes than writes cannot inflate the bill."""
        price = pricing.get("claude-haiku-4-5")
        assert price is not None
        usage = Usage(input_tokens=100, cache_write_tokens=100)
        assert pricing.cost(usage, price, cache_write_1h_tokens=100) == pricing.cost(
            usage, price, cache_write_1h_tokens=10**9
        )

    def test_long_context_tier_replaces_all_rates(self) -> None:
        """Haiku 5.5 prompts over 100K tokens are billed entirely at the higher rates."""
        price = pricing.get("claude-haiku-5-5")
        assert price is not None
        at = Usage(input_tokens=100_000, output_tokens=1_000_000)
        over = Usage(input_tokens=100_001, output_tokens=1_000_000)
        assert Decimal("0.51") == pricing.cost(at, price)
        assert Decimal("2.550000500") == pricing.cost(over, price)

    def test_terra_long_context(self) -> None:
        """GPT-6.1 Terra above 272K input is 2x input and 1.5x output."""
        price = pricing.get("gpt-6.1-terra")
        assert price is not None
        usage = Usage(input_tokens=300_000, output_tokens=1_000)
        assert Decimal("0.6075") == pricing.cost(usage, price)

    def test_rounds_to_a_nano_dollar(self) -> None:
        """Costs carry nine decimals, so sums in a report line up to the nano-dollar."""
        price = ModelPrice.per_million("0.0001", "0.0001")
        usage = Usage(input_tokens=3, output_tokens=2)
        assert Decimal("0E-9") == pricing.cost(usage, price)
        assert pricing.cost(Usage(1, 1), pricing.models()["gpt-5.5"]).as_tuple().exponent == -9

    def test_unusual_rates_use_the_decimal_path(self) -> None:
        """Rates with more than three decimals are still priced exactly, then rounded."""
        price = ModelPrice.per_million("0.0375", "0.15")
        usage = Usage(input_tokens=1_000_000, output_tokens=3)
        assert Decimal("0.037500450") == pricing.cost(usage, price)

    @pytest.mark.parametrize("name", SHIPPED)
    def test_zero_usage_costs_nothing(self, name: str) -> None:
        """A call that used no tokens (e.g. blocked) costs exactly zero."""
        price = pricing.get(name)
        assert price is not None
        assert Decimal(0) == pricing.cost(Usage(), price)
        assert Decimal(0) == pricing.cost(Usage(), price, batch=True)

    @pytest.mark.parametrize("name", SHIPPED)
    def test_cached_read_is_cheaper_than_uncached(self, name: str) -> None:
        """For every shipped model, serving a prompt from the cache lowers the bill."""
        price = pricing.get(name)
        assert price is not None
        uncached = Usage(input_tokens=50_000, output_tokens=100)
        cached = Usage(input_tokens=50_000, output_tokens=100, cache_read_tokens=40_000)
        assert pricing.cost(cached, price) < pricing.cost(uncached, price)


class TestCostProperties:
    @given(name=st.sampled_from(SHIPPED), a=usages(), b=usages())
    def test_additive_over_calls(self, name: str, a: Usage, b: Usage) -> None:
        """Pricing two calls separately or their summed usage gives the same total."""
        price = _flat(name)
        assert pricing.cost(a, price) + pricing.cost(b, price) == pricing.cost(a + b, price)

    @given(name=st.sampled_from(SHIPPED), u=usages())
    def test_additive_over_token_classes(self, name: str, u: Usage) -> None:
        """The bill is the sum of its lines: uncached input, writes, reads and output."""
        price = _flat(name)
        long = u.cache_write_1h_tokens
        parts = [
            Usage(input_tokens=u.uncached_input_tokens),
            Usage(
                input_tokens=u.cache_write_tokens - long,
                cache_write_tokens=u.cache_write_tokens - long,
            ),
            Usage(input_tokens=long, cache_write_tokens=long, cache_write_1h_tokens=long),
            Usage(input_tokens=u.cache_read_tokens, cache_read_tokens=u.cache_read_tokens),
            Usage(output_tokens=u.output_tokens),
        ]
        assert sum(pricing.cost(p, price) for p in parts) == pricing.cost(u, price)

    @given(name=st.sampled_from(SHIPPED), a=usages(), b=usages(), batch=st.booleans())
    def test_monotone(self, name: str, a: Usage, b: Usage, batch: bool) -> None:
        """More tokens never cost less, long-context tier included."""
        price = pricing.get(name)
        assert price is not None
        assert pricing.cost(a + b, price, batch=batch) >= pricing.cost(a, price, batch=batch)

    @given(name=st.sampled_from(SHIPPED), u=usages())
    def test_batch_is_the_discounted_price(self, name: str, u: Usage) -> None:
        """A batch call costs exactly (1 - discount) times the same call, to the nano-dollar."""
        price = pricing.get(name)
        assert price is not None
        full = pricing.cost(u, price)
        expected = (full * (1 - price.batch_discount)).quantize(
            pricing.QUANTUM, rounding=ROUND_HALF_EVEN
        )
        assert expected == pricing.cost(u, price, batch=True)

    @given(
        rates=st.lists(
            st.decimals(min_value=0, max_value=100, places=6, allow_nan=False),
            min_size=5,
            max_size=5,
        ),
        discount=st.decimals(min_value=0, max_value=1, places=2, allow_nan=False),
        u=usages(),
    )
    def test_any_rates_match_the_formula(
        self, rates: list[Decimal], discount: Decimal, u: Usage
    ) -> None:
        """User-registered prices of any precision follow the documented formula."""
        inp, out, write_5m, write_1h, read = rates
        price = ModelPrice(inp, out, write_5m, write_1h, read, batch_discount=discount)
        long = u.cache_write_1h_tokens
        exact = (
            u.uncached_input_tokens * price.input
            + (u.cache_write_tokens - long) * price.cache_write_5m
            + long * price.cache_write_1h
            + u.cache_read_tokens * price.cache_read
            + u.output_tokens * price.output
        ) / 1_000_000
        q = pricing.QUANTUM
        assert exact.quantize(q, ROUND_HALF_EVEN) == pricing.cost(u, price)
        assert (exact * (1 - discount)).quantize(q, ROUND_HALF_EVEN) == pricing.cost(
            u, price, batch=True
        )


class TestLongContextTier:
    def test_tier_applies_strictly_above_threshold(self) -> None:
        """A prompt exactly at the threshold is still billed at the base rates."""
        two = Decimal(2)
        tier = LongContextTier(10, two, two, two, two, two)
        price = ModelPrice.per_million(1, 1, long_context=tier)
        assert Decimal("0.00001") == pricing.cost(Usage(input_tokens=10), price)
        assert Decimal("0.000022") == pricing.cost(Usage(input_tokens=11), price)
