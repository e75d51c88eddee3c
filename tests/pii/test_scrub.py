"""scrub(): the safety net for sinks and error messages when no policy is set."""

from __future__ import annotations

import subprocess
import sys

from thinllm.pii import default_detector, scrub, scrub_secrets


class TestScrub:
    def test_values_are_replaced(self) -> None:
        """Secrets and personal data in a message become typed placeholders."""
        text = "401 for key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345 user a@b.io"
        assert scrub(text) == "401 for key [SECRET_1] user [EMAIL_1]"

    def test_clean_text_is_returned_as_is(self) -> None:
        """Text without PII comes back unchanged (the same object: no copy)."""
        text = "Rate limited; retry after 3 seconds (attempt 2 of 5)."
        assert scrub(text) is text

    def test_numbering_restarts_per_call(self) -> None:
        """Each scrub() call numbers from 1, so it keeps no state between calls."""
        assert (scrub("a@b.io"), scrub("c@d.io")) == ("[EMAIL_1]", "[EMAIL_1]")

    def test_default_detector_is_shared(self) -> None:
        """The default detector is built once and reused (scrub stays cheap)."""
        assert default_detector() is default_detector()


class TestImportCost:
    def test_import_compiles_nothing_and_loads_no_extra(self) -> None:
        """Importing thinllm.pii compiles no detection regex and does not load Presidio."""
        code = (
            "import sys, thinllm.pii\n"
            "from thinllm.pii._entities import _rx\n"
            "assert _rx.cache_info().currsize == 0, 'regexes compiled at import'\n"
            "assert 'presidio_analyzer' not in sys.modules\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=False
        )
        assert (result.returncode, result.stderr) == (0, "")


class TestScrubSecrets:
    def test_only_credentials_are_replaced(self) -> None:
        """With full capture, personal data stays but API keys never reach a sink."""
        text = "key AKIAIOSFODNN7EXAMPLE for jane@corp.com"
        assert scrub_secrets(text) == "key [SECRET_1] for jane@corp.com"

    def test_clean_text_is_returned_as_is(self) -> None:
        """Text without credentials comes back unchanged."""
        text = "jane@corp.com asked for 3 seats"
        assert scrub_secrets(text) is text
