"""``PresidioDetector``: Microsoft Presidio's recognizers behind the ``Detector`` protocol.

For what regexes cannot find (names, street addresses, other NER entities). Presidio is
an optional extra, imported when the detector is built, never by ``import thinllm``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ._base import Span

__all__ = ["PRESIDIO_ENTITIES", "PresidioDetector"]

#: Presidio entity name -> thinllm entity name; others keep Presidio's name.
PRESIDIO_ENTITIES: dict[str, str] = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
}
_OURS_TO_PRESIDIO = {ours: theirs for theirs, ours in PRESIDIO_ENTITIES.items()}


class PresidioDetector:
    """Detect PII with a Presidio ``AnalyzerEngine`` (extra: ``thinllm[presidio]``).

    ``entities`` are thinllm or Presidio names (``"EMAIL"`` or ``"EMAIL_ADDRESS"``,
    ``"PERSON"``); ``None`` asks for everything the analyzer supports. Pass your own
    ``analyzer`` to choose the NLP engine (spaCy, transformers, or Presidio's
    ``NoOpNlpEngine`` for pattern recognizers only); by default Presidio builds its own,
    which needs a spaCy model such as ``en_core_web_lg`` installed.
    """

    def __init__(
        self,
        entities: Iterable[str] | None = None,
        language: str = "en",
        *,
        analyzer: Any = None,
        score_threshold: float = 0.5,
    ) -> None:
        try:
            import presidio_analyzer
        except ImportError as exc:
            raise ImportError(
                "PresidioDetector needs Presidio: pip install 'thinllm[presidio]' "
                "(and a spaCy model for names and addresses, e.g. en_core_web_lg)"
            ) from exc
        self._presidio = presidio_analyzer
        self.language = language
        self.score_threshold = score_threshold
        self.entities: list[str] | None = (
            None if entities is None else [_OURS_TO_PRESIDIO.get(e, e) for e in entities]
        )
        self._analyzer = analyzer
        self._lock = threading.Lock()

    def _engine(self) -> Any:
        # Building an AnalyzerEngine loads NLP models (seconds): do it once, on first use.
        if self._analyzer is None:
            with self._lock:
                if self._analyzer is None:
                    self._analyzer = self._presidio.AnalyzerEngine(
                        supported_languages=[self.language]
                    )
        return self._analyzer

    def __call__(self, text: str, /) -> list[Span]:
        """Presidio's findings in ``text`` as spans with thinllm entity names."""
        results = self._engine().analyze(
            text=text,
            language=self.language,
            entities=self.entities,
            score_threshold=self.score_threshold,
        )
        return [
            Span(
                PRESIDIO_ENTITIES.get(r.entity_type, r.entity_type),
                int(r.start),
                int(r.end),
                float(r.score),
            )
            for r in results
        ]

    def __repr__(self) -> str:
        return f"PresidioDetector(entities={self.entities!r}, language={self.language!r})"
