"""The public surface: __all__ and the module's public names agree."""

from __future__ import annotations

import thinllm


def test_all_matches_public_names() -> None:
    """Every public name is in __all__ and every __all__ entry exists (sorted)."""
    public = {n for n in dir(thinllm) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(thinllm, n)).__name__ == "module"}
    assert sorted(thinllm.__all__) == thinllm.__all__
    assert set(thinllm.__all__) == public - modules - {"annotations"}
