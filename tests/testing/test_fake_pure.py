"""Pure helpers behind the fake: token counts, stream splitting, minimal schema values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from thinllm.testing._schema import minimal_value
from thinllm.testing._tokens import count_tokens, split_deltas


class TestTokens:
    @pytest.mark.parametrize(
        ("text", "tokens"),
        [
            pytest.param("", 0, id="empty"),
            pytest.param("abcd", 1, id="four-bytes"),
            pytest.param("abcde", 2, id="rounds-up"),
            pytest.param("é" * 2, 1, id="utf8-bytes"),
        ],
    )
    def test_count(self, text: str, tokens: int) -> None:
        """Token counts are ceil(utf-8 bytes / 4), so tests can predict them by hand."""
        assert tokens == count_tokens(text)

    @given(st.text())
    def test_deltas_rebuild_the_text(self, text: str) -> None:
        """Stream deltas always concatenate back to the full reply."""
        assert text == "".join(split_deltas(text))


class TestMinimalValue:
    @pytest.mark.parametrize(
        ("schema", "value"),
        [
            pytest.param({"type": "string"}, "x", id="string"),
            pytest.param({"type": "integer", "minimum": 3}, 3, id="integer-minimum"),
            pytest.param({"type": ["null", "number"]}, 0, id="nullable"),
            pytest.param({"anyOf": [{"type": "null"}, {"type": "boolean"}]}, False, id="anyOf"),
            pytest.param({"const": "fixed"}, "fixed", id="const"),
            pytest.param(
                {"type": "array", "items": {"type": "string"}, "minItems": 1}, ["x"], id="min-items"
            ),
            pytest.param(
                {
                    "$defs": {"Tag": {"type": "object", "properties": {"n": {"type": "string"}}}},
                    "type": "object",
                    "properties": {"tag": {"$ref": "#/$defs/Tag"}},
                },
                {"tag": {"n": "x"}},
                id="ref",
            ),
        ],
    )
    def test_values(self, schema: dict[str, Any], value: Any) -> None:
        """Simple schemas (pydantic's output included) get a small valid value."""
        assert value == minimal_value(schema)

    def test_pydantic_model_schema_validates(self) -> None:
        """The minimal value for a pydantic model's schema validates against that model."""
        from typing import Literal

        from pydantic import BaseModel

        class Item(BaseModel):
            name: str
            count: int

        class Triage(BaseModel):
            label: Literal["bug", "question"]
            score: float
            note: str | None
            items: list[Item]
            first: Item

        assert Triage.model_validate(minimal_value(Triage.model_json_schema()))
