"""Deterministic token counting for the fake vendor.

Real tokenizers differ per model and vendor; tests need counts they can predict by hand,
so every text segment costs ``ceil(utf8_bytes / 4)`` tokens.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["canonical_json", "count_tokens", "split_deltas"]


def count_tokens(text: str) -> int:
    """Return the fake token count of one text segment: ``ceil(len(utf8 bytes) / 4)``."""
    return -(-len(text.encode("utf-8")) // 4)


def canonical_json(value: Any) -> str:
    """Serialise ``value`` the same way every time, so equal content gives equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_PIECE = re.compile(r"\s*\S+\s*|\s+")


def split_deltas(text: str) -> list[str]:
    """Split reply text into word-sized stream deltas whose concatenation is ``text``."""
    return _PIECE.findall(text) or ([text] if text else [])
