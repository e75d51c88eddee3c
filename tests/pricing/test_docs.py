"""docs/costs.md stays true to the shipped price table and the cost formula."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from thinllm import pricing
from thinllm._reply import Usage

DOC = Path(__file__).resolve().parents[2] / "docs" / "costs.md"
ROW = re.compile(r"^\| `(?P<model>[^`]+)` \|(?P<cells>.*)\|\s*$")



def _rows() -> dict[str, list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## The price table", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            rows[m["model"]] = [c.strip() for c in m["cells"].split("|")]
    return rows


class TestCostsDoc:
    def test_price_table_matches_prices_json(self) -> None:
        """The prices a reader sees in the docs are the ones thinllm bills with."""
        rows = _rows()
        assert sorted(pricing.models()) == sorted(rows)
        for name, price in pricing.models().items():
            inp, w5, w1, read, out, long_ctx, as_of = rows[name]
            assert [price.input, price.cache_write_5m, price.cache_write_1h] == [
                Decimal(inp),
                Decimal(w5),
                Decimal(w1),
            ], name
            assert [price.cache_read, price.output] == [Decimal(read), Decimal(out)], name
            assert str(price.as_of) == as_of.rstrip(" *"), name
            assert ("[inference]" in price.note) == as_of.endswith("*"), name
            tier = price.long_context
            if tier is None:
                assert long_ctx == "", name
            else:
                assert f">{tier.threshold // 1000}K: {tier.input} / {tier.output}" == long_ctx

    def test_table_date_in_the_doc(self) -> None:
        """The doc states the compile date of the shipped table."""
        assert f"compiled {pricing.TABLE_DATE.isoformat()}" in DOC.read_text(encoding="utf-8")

    def test_worked_example(self) -> None:
        """The Python example in the doc computes what it claims."""
        price = pricing.get("claude-haiku-4-5-20251001")
        assert price is not None
        usage = Usage(
            input_tokens=12_000, output_tokens=300, cache_read_tokens=10_000, cache_write_tokens=0
        )
        text = DOC.read_text(encoding="utf-8")
        assert f'Decimal("{pricing.cost(usage, price)}")' in text
        assert f'Decimal("{pricing.cost(usage, price, batch=True)}")' in text
