"""import thinllm stays cheap: no vendor SDK or heavy optional dependency is loaded."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "anthropic",
    "openai",
    "pydantic",
    "structlog",
    "opentelemetry",
    "psycopg",
    "openfeature",
    "presidio_analyzer",
    "tenacity",
)


def test_import_loads_no_vendor_sdk() -> None:
    """A fresh interpreter importing thinllm (and its subpackages) loads none of the heavy modules."""
    code = (
        "import sys, thinllm, thinllm.sinks, thinllm.flags, thinllm.pricing, thinllm.pii;"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        .stdout.strip()
        .split(",")
    )
    assert loaded.isdisjoint(HEAVY), loaded & set(HEAVY)
