"""Prompt-cache simulation, faithful enough for cost examples and cache-stability tests.

A prompt is a list of :class:`Segment` (one per tool, system block, message block) in
the vendor's prefix order. Entries are keyed by model plus a running hash of the
segments, so a prefix is reused only if it is byte-identical.

- Anthropic: explicit ``cache_control`` breakpoints. The longest cached boundary
  (looking back at most 20 blocks from each breakpoint) is read; every breakpoint
  after it whose prefix reaches ``min_tokens`` is written, with its own TTL.
- OpenAI: automatic for prompts of at least 1024 tokens; hits come at segment
  boundaries, rounded down to 128-token increments.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["CacheResult", "PromptCache", "Segment"]

_LOOKBACK = 20


@dataclass(frozen=True, slots=True)
class Segment:
    """One cacheable unit of a prompt; ``ttl`` is set only on an Anthropic breakpoint."""

    key: bytes
    tokens: int
    ttl: float | None = None


@dataclass(frozen=True, slots=True)
class CacheResult:
    """Token counts the cache produced for one request."""

    read: int = 0
    write_5m: int = 0
    write_1h: int = 0

    @property
    def write(self) -> int:
        """All tokens written to the cache by this request."""
        return self.write_5m + self.write_1h


@dataclass(slots=True)
class _Entry:
    expires_at: float
    ttl: float


class PromptCache:
    """Thread-safe store of cached prefixes, with TTLs on an injectable clock."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, bytes], _Entry] = {}

    def clear(self) -> None:
        """Forget every cached prefix."""
        with self._lock:
            self._entries.clear()

    def anthropic(self, model: str, segments: Sequence[Segment], min_tokens: int) -> CacheResult:
        """Apply explicit breakpoints; return what was read and written."""
        breakpoints = [i for i, s in enumerate(segments) if s.ttl is not None]
        if not breakpoints:
            return CacheResult()
        digests, cumulative = _prefixes(segments)
        candidates: set[int] = set()
        for bp in breakpoints:
            candidates.update(range(max(0, bp - _LOOKBACK + 1), bp + 1))
        with self._lock:
            now = self._clock()
            read_at = self._longest_hit(model, digests, sorted(candidates, reverse=True), now)
            read = cumulative[read_at] if read_at >= 0 else 0
            written = {300.0: 0, 3600.0: 0}
            covered = read
            for bp in breakpoints:
                if bp <= read_at or cumulative[bp] < min_tokens:
                    continue
                ttl = segments[bp].ttl or 300.0
                written[3600.0 if ttl >= 3600.0 else 300.0] += cumulative[bp] - covered
                self._entries[(model, digests[bp])] = _Entry(now + ttl, ttl)
                covered = cumulative[bp]
        return CacheResult(read, written[300.0], written[3600.0])

    def openai(
        self,
        namespace: str,
        segments: Sequence[Segment],
        *,
        ttl: float,
        min_tokens: int = 1024,
        increment: int = 128,
    ) -> CacheResult:
        """Apply automatic caching; ``namespace`` is model plus ``prompt_cache_key``."""
        digests, cumulative = _prefixes(segments)
        total = cumulative[-1] if cumulative else 0
        if total < min_tokens:
            return CacheResult()
        with self._lock:
            now = self._clock()
            hit = self._longest_hit(namespace, digests, range(len(digests) - 1, -1, -1), now)
            read = cumulative[hit] // increment * increment if hit >= 0 else 0
            if read < min_tokens:
                read = 0
            for i, digest in enumerate(digests):
                if cumulative[i] >= min_tokens:
                    self._entries[(namespace, digest)] = _Entry(now + ttl, ttl)
        write = max(0, total // increment * increment - read)
        if ttl >= 12 * 3600.0:  # the long (12-hour, or legacy 24-hour) retention
            return CacheResult(read, write_1h=write)
        return CacheResult(read, write_5m=write)

    def _longest_hit(
        self, namespace: str, digests: list[bytes], order: Sequence[int], now: float
    ) -> int:
        # Caller holds the lock. A read refreshes the entry's TTL, as both vendors do.
        for i in order:
            entry = self._entries.get((namespace, digests[i]))
            if entry is None:
                continue
            if entry.expires_at <= now:
                del self._entries[(namespace, digests[i])]
                continue
            entry.expires_at = now + entry.ttl
            return i
        return -1


def _prefixes(segments: Sequence[Segment]) -> tuple[list[bytes], list[int]]:
    running = hashlib.sha256()
    digests: list[bytes] = []
    cumulative: list[int] = []
    total = 0
    for seg in segments:
        running.update(len(seg.key).to_bytes(8, "big"))
        running.update(seg.key)
        digests.append(running.copy().digest())
        total += seg.tokens
        cumulative.append(total)
    return digests, cumulative
