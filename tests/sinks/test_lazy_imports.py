"""Importing thinllm.sinks stays cheap: no database driver or telemetry library loads."""

from __future__ import annotations

from sinkkit import run_python

CHECK = """
import sys
import thinllm.sinks
heavy = ("psycopg", "opentelemetry.sdk", "sqlite3", "thinllm.sinks.postgres",
         "thinllm.sinks.otel", "thinllm._store")
print(",".join(m for m in heavy if m in sys.modules))
"""


class TestLazyImports:
    def test_import_sinks_loads_no_driver(self) -> None:
        """An app that only imports thinllm.sinks pays for no driver it does not use."""
        child = run_python(CHECK)
        out, err = child.communicate(timeout=60)
        assert (child.returncode, out.strip()) == (0, ""), err

    def test_names_resolve_on_access(self) -> None:
        """Every advertised sink is reachable as thinllm.sinks.<Name>."""
        import thinllm.sinks

        missing = [name for name in thinllm.sinks.__all__ if not hasattr(thinllm.sinks, name)]
        assert missing == []
