"""PresidioDetector: the optional NER-capable detector behind the same protocol."""

from __future__ import annotations

import importlib.util

import pytest

from thinllm.pii import PresidioDetector

HAVE_PRESIDIO = importlib.util.find_spec("presidio_analyzer") is not None


class TestPresidioMissing:
    @pytest.mark.skipif(HAVE_PRESIDIO, reason="presidio-analyzer is installed")
    def test_clear_install_hint(self) -> None:
        """Without the extra, building the detector says exactly what to install."""
        with pytest.raises(ImportError, match=r"pip install 'thinllm\[presidio\]'"):
            PresidioDetector()


@pytest.mark.skipif(
    not HAVE_PRESIDIO,
    reason="presidio-analyzer is not installed (optional extra thinllm[presidio])",
)
class TestPresidioInstalled:
    def test_pattern_recognizers_map_to_thinllm_names(self) -> None:
        """Presidio's findings come back with thinllm's entity names."""
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine

        nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
        analyzer = AnalyzerEngine(nlp_engine=nlp, registry=registry, supported_languages=["en"])
        detector = PresidioDetector(["EMAIL", "CREDIT_CARD"], analyzer=analyzer)
        text = "mail jane@corp.com card 4111 1111 1111 1111"
        found = {(s.entity, text[s.start : s.end]) for s in detector(text)}
        assert {("EMAIL", "jane@corp.com"), ("CREDIT_CARD", "4111 1111 1111 1111")} <= found
