"""Looking prices up, overriding them, and the shipped table's integrity."""

from __future__ import annotations

import json
import warnings
from dataclasses import fields
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import TYPE_CHECKING

import pytest

from thinllm import pricing
from thinllm.errors import ConfigurationError
from thinllm.pricing import LongContextTier, ModelPrice, UnpricedModelWarning

if TYPE_CHECKING:
    from pathlib import Path

REQUIRED = (
    "gpt-6.1-terra",
    "gpt-6.1-sol",
    "gpt-6-sol",
    "gpt-6-luna",
    "gpt-6-astra",
    "gpt-5.5",
    "claude-sonnet-5-5",
    "claude-sonnet-5",
    "claude-haiku-4-5",
    "claude-haiku-5-5",
    "claude-opus-5",
    "claude-opus-5-5",
    "claude-fable-5-1",
    "claude-fable-5-2",
)


def _raw_table() -> dict[str, object]:
    text = resources.files("thinllm.pricing").joinpath("prices.json").read_text("utf-8")
    data: dict[str, object] = json.loads(text)
    return data


class TestGet:
    @pytest.mark.parametrize(
        ("spelling", "canonical"),
        [
            pytest.param("claude-haiku-4-5", "claude-haiku-4-5", id="exact"),
            pytest.param("claude-haiku-4-5-20251001", "claude-haiku-4-5", id="dated-alias"),
            pytest.param("claude-sonnet-5-5-20261001", "claude-sonnet-5-5", id="yyyymmdd"),
            pytest.param("gpt-5.5-2026-04-23", "gpt-5.5", id="yyyy-mm-dd"),
            pytest.param("anthropic/claude-opus-5", "claude-opus-5", id="anthropic-prefix"),
            pytest.param("openai/gpt-6.1-terra", "gpt-6.1-terra", id="openai-prefix"),
            pytest.param("openai/gpt-5.5-2026-04-23", "gpt-5.5", id="prefix-and-date"),
            pytest.param("claude-haiku-4-5@20251001", "claude-haiku-4-5", id="vertex"),
            pytest.param(
                "us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5", id="bedrock"
            ),
            pytest.param("anthropic.claude-opus-5-v1:0", "claude-opus-5", id="bedrock-plain"),
            pytest.param("GPT-6-Luna", "gpt-6-luna", id="case"),
        ],
    )
    def test_spellings_resolve(self, spelling: str, canonical: str) -> None:
        """The model string a vendor echoes back finds the list price of the model."""
        assert pricing.models()[canonical] is pricing.get(spelling)

    def test_unknown_model_is_none(self) -> None:
        """An unpriced model gives None (cost=None), not a guess."""
        assert pricing.get("my-private-model") is None
        assert pricing.get("gpt-6.2-astra") is None

    def test_unknown_answer_is_cached_but_register_invalidates(self) -> None:
        """Registering a model after a miss makes the next lookup find it."""
        assert pricing.get("acme-1") is None
        price = ModelPrice.per_million(1, 2)
        pricing.register("acme-1", price)
        assert price is pricing.get("acme-1-20260101")


class TestOverrides:
    def test_register_replaces_a_shipped_price(self) -> None:
        """A negotiated rate registered in code wins over the list price, aliases included."""
        price = ModelPrice.per_million("0.8", 4, cache_read="0.08", batch_discount="0.5")
        pricing.register("claude-haiku-4-5", price)
        assert price is pricing.get("claude-haiku-4-5-20251001")

    def test_register_before_first_lookup_survives_lazy_load(self) -> None:
        """Overrides made at start-up are not clobbered when the shipped file loads."""
        pricing.reset()
        price = ModelPrice.per_million(9, 9)
        pricing.register("gpt-5.5", price, aliases=("house-default",))
        assert price is pricing.get("gpt-5.5")
        assert price is pricing.get("house-default")

    def test_register_rejects_non_prices(self) -> None:
        """A plain dict is refused with a hint on how to build a ModelPrice."""
        with pytest.raises(ConfigurationError, match="per_million"):
            pricing.register("x", {"input": 1})  # type: ignore[arg-type]

    def test_load_merges_a_file(self, tmp_path: Path) -> None:
        """A price file in the shipped format adds and overrides entries."""
        path = tmp_path / "prices.json"
        path.write_text(
            json.dumps(
                {
                    "as_of": "2026-12-01",
                    "sources": {"contract": "MSA 2026"},
                    "models": {
                        "gpt-6-luna": {"provider": "openai", "input": "0.08", "output": "0.4"},
                        "acme-2": {
                            "input": 1,
                            "output": 3,
                            "aliases": ["acme-two"],
                            "long_context": {
                                "threshold": 10,
                                "input": 2,
                                "output": 6,
                                "cache_write_5m": 2,
                                "cache_write_1h": 2,
                                "cache_read": 2,
                            },
                        },
                    },
                }
            )
        )
        info = pricing.load(path)
        assert date(2026, 12, 1) == info.as_of
        luna = pricing.get("gpt-6-luna")
        assert luna is not None
        assert (Decimal("0.08"), Decimal("0.08")) == (luna.input, luna.cache_read)
        assert date(2026, 12, 1) == luna.as_of
        acme = pricing.get("acme-two")
        assert acme is not None
        assert acme.long_context is not None
        assert acme.long_context.threshold == 10
        assert pricing.get("gpt-6-sol") is not None  # the rest of the table is kept

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            pytest.param("{", "cannot read", id="bad-json"),
            pytest.param('{"as_of": "2026-01-01"}', "models", id="no-models"),
            pytest.param(
                '{"as_of": "2026-01-01", "models": {"m": {"input": 1}}}', "missing", id="no-output"
            ),
            pytest.param(
                '{"as_of": "2026-01-01", "models": {"m": {"input": 1, "output": 1, "inptu": 2}}}',
                "unknown keys",
                id="typo",
            ),
            pytest.param(
                '{"as_of": "2026-01-01", "models": {"m": {"input": -1, "output": 1}}}',
                ">= 0",
                id="negative",
            ),
            pytest.param('{"as_of": "soon", "models": {}}', "ISO date", id="bad-date"),
        ],
    )
    def test_load_rejects_bad_files(self, tmp_path: Path, content: str, message: str) -> None:
        """A broken price file fails loudly at load time, naming the problem."""
        path = tmp_path / "prices.json"
        path.write_text(content)
        with pytest.raises(ConfigurationError, match=message):
            pricing.load(path)

    def test_reset_restores_the_shipped_table(self) -> None:
        """Overrides vanish after reset(), so tests cannot leak prices into each other."""
        pricing.register("gpt-5.5", ModelPrice.per_million(0, 0))
        pricing.reset()
        price = pricing.get("gpt-5.5")
        assert price is not None
        assert Decimal(5) == price.input


class TestModelPrice:
    def test_per_million_defaults_are_conservative(self) -> None:
        """Unknown cache rates default to the input rate, never to a discount."""
        price = ModelPrice.per_million(3, 15)
        assert (Decimal(3), Decimal(3), Decimal(3)) == (
            price.cache_read,
            price.cache_write_5m,
            price.cache_write_1h,
        )
        assert Decimal(0) == price.batch_discount

    def test_floats_become_exact_decimals(self) -> None:
        """0.1 given as a float is stored as Decimal('0.1'), not its binary expansion."""
        assert Decimal("0.1") == ModelPrice.per_million(0.1, 1).input

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({"batch_discount": 2}, id="discount>1"),
            pytest.param({"cache_read": "abc"}, id="not-a-number"),
            pytest.param({"cache_read": True}, id="bool"),
            pytest.param({"cache_read": float("nan")}, id="nan"),
        ],
    )
    def test_invalid_values_are_refused(self, kwargs: dict[str, object]) -> None:
        """Nonsense prices fail at construction, not as a wrong bill later."""
        with pytest.raises(ConfigurationError):
            ModelPrice.per_million(1, 1, **kwargs)  # type: ignore[arg-type]

    def test_as_dict_round_trips_through_the_file_format(self, tmp_path: Path) -> None:
        """A price written out with as_dict() loads back equal."""
        price = pricing.get("claude-haiku-5-5")
        assert price is not None
        path = tmp_path / "p.json"
        path.write_text(json.dumps({"as_of": "2026-11-28", "models": {"copy": price.as_dict()}}))
        pricing.load(path)
        assert price == pricing.get("copy")


class TestShippedTable:
    def test_required_models_are_priced(self) -> None:
        """The current Claude and OpenAI models in the docs all have prices."""
        missing = [m for m in REQUIRED if pricing.get(m) is None]
        assert missing == []

    def test_table_date_and_sources(self) -> None:
        """The table says when it was compiled and where every entry's numbers come from."""
        raw = _raw_table()
        assert date.fromisoformat(str(raw["as_of"])) == pricing.TABLE_DATE
        assert pricing.TABLE_SOURCES
        for name, price in pricing.models().items():
            assert price.source, name
            for ref in price.source.replace(";", " ").split():
                if ref.endswith(":") or ref in {
                    "cache",
                    "rates",
                    "write",
                    "long",
                    "context",
                    "rule",
                }:
                    continue
                assert ref in pricing.TABLE_SOURCES, (name, ref)

    @pytest.mark.parametrize("name", sorted(pricing.models()))
    def test_every_entry_is_complete(self, name: str) -> None:
        """Every shipped entry has every rate, a provider, a source and a parseable date."""
        raw = _raw_table()["models"][name]  # type: ignore[index]
        for key in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read"):
            assert key in raw, key
            Decimal(raw[key])
        date.fromisoformat(raw["as_of"])
        price = pricing.models()[name]
        assert price.provider in {"anthropic", "openai"}
        assert price.as_of is not None
        assert price.as_of <= pricing.TABLE_DATE
        assert Decimal("0.5") == price.batch_discount
        optional = {"long_context"}
        assert all(
            getattr(price, f.name) not in (None, "")
            for f in fields(price)
            if f.init and f.name not in optional | {"note"}
        )
        assert price.nano is not None  # every shipped rate takes the exact integer path

    @pytest.mark.parametrize(
        "name", sorted(n for n, p in pricing.models().items() if p.provider == "anthropic")
    )
    def test_anthropic_read_lt_input_lt_write(self, name: str) -> None:
        """Anthropic reads are cheaper than input, and writes dearer; 1h dearer than 5m."""
        p = pricing.models()[name]
        tiers: list[ModelPrice | LongContextTier] = [p]
        if p.long_context:
            tiers.append(p.long_context)
        for t in tiers:
            assert t.cache_read < t.input < t.cache_write_5m < t.cache_write_1h, name

    @pytest.mark.parametrize(
        "name", sorted(n for n, p in pricing.models().items() if p.provider == "openai")
    )
    def test_openai_read_lt_input_le_write(self, name: str) -> None:
        """OpenAI reads are cheaper than input; writes cost at least input (free before 5.6)."""
        p = pricing.models()[name]
        assert p.cache_read < p.input <= p.cache_write_5m <= p.cache_write_1h, name

    def test_inferred_values_say_so(self) -> None:
        """Entries with numbers the sources did not give are marked [inference]."""
        for name in ("claude-fable-5-2", "claude-sonnet-5-5", "gpt-6.1-sol"):
            assert "[inference]" in pricing.models()[name].note


class TestWarnUnpriced:
    def test_warns_once_per_model(self) -> None:
        """A busy process with an unpriced model logs one warning, not one per call."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert pricing.warn_unpriced("acme-9")
            assert not pricing.warn_unpriced("acme-9")
            assert pricing.warn_unpriced("acme-10")
        assert len(caught) == 2
        assert all(issubclass(w.category, UnpricedModelWarning) for w in caught)
        assert "pricing.register('acme-9'" in str(caught[0].message)

    def test_reset_re_arms_the_warning(self) -> None:
        """After reset() the warning fires again (tests stay independent)."""
        with pytest.warns(UnpricedModelWarning):
            pricing.warn_unpriced("acme-9")
        pricing.reset()
        with pytest.warns(UnpricedModelWarning):
            pricing.warn_unpriced("acme-9")

    def test_is_a_user_warning(self) -> None:
        """Standard warning filters for UserWarning apply to it."""
        assert issubclass(UnpricedModelWarning, UserWarning)
