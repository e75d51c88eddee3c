"""The local fallback file that holds events a sink could not take, until it recovers.

One spool file per sink, named by a hash of the sink's identity, holding exactly
``CallEvent.to_json()`` lines (nothing else: no sink names, no DSNs). Appends are
fsynced, because a spooled event is the only copy. Several processes may share one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from thinllm._events import CallEvent

from ._filelock import file_lock
from ._unicode import repaired

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Spool", "default_spool_dir", "sink_identity"]


def default_spool_dir() -> str:
    """``$THINLLM_SPOOL_DIR``, else the user's cache dir + ``thinllm/spool``."""
    explicit = os.environ.get("THINLLM_SPOOL_DIR")
    if explicit:
        return explicit
    if sys.platform == "win32":  # pragma: no cover
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
    elif sys.platform == "darwin":  # pragma: no cover
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "thinllm", "spool")


def sink_identity(sink: Any, index: int) -> str:
    """A stable name for ``sink`` across restarts (its ``spool_key``, else its type)."""
    key = getattr(sink, "spool_key", None)
    if isinstance(key, str) and key:
        return key
    # Functions have their own qualified name; other callables are named by type.
    module = getattr(sink, "__module__", None) or type(sink).__module__
    name = getattr(sink, "__qualname__", None) or type(sink).__qualname__
    return f"{module}.{name}#{index}"


class Spool:
    """The spool file of one sink."""

    def __init__(self, directory: str, identity: str) -> None:
        digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self.path = os.path.join(directory, f"{digest}.jsonl")
        self._lock = threading.Lock()

    def count(self) -> int:
        """Events waiting in the file."""
        try:
            with open(self.path, "rb") as f:
                return sum(1 for line in f if line.strip())
        except FileNotFoundError:
            return 0

    def append(self, event: CallEvent) -> None:
        """Add ``event`` durably (fsynced before returning)."""
        try:
            line = (event.to_json() + "\n").encode()
        except UnicodeEncodeError:  # a lone surrogate: spool U+FFFD instead of losing it
            line = (repaired(event).to_json() + "\n").encode()
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        with self._lock, file_lock(self.path):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def drain(self, deliver: Callable[[CallEvent], None]) -> tuple[int, int, Exception | None]:
        """Hand spooled events to ``deliver`` in order, removing each that succeeds.

        Stops at the first failure. Returns (delivered, still pending, the failure).
        """
        with self._lock, file_lock(self.path):
            try:
                with open(self.path, "rb") as f:
                    lines = [line for line in f if line.strip()]
            except FileNotFoundError:
                return 0, 0, None
            done = 0
            error: Exception | None = None
            for line in lines:
                try:
                    deliver(CallEvent.from_dict(json.loads(line)))
                except Exception as exc:  # the sink is still down
                    error = exc
                    break
                done += 1
            rest = lines[done:]
            if done:
                self._rewrite(rest)
            return done, len(rest), error

    def _rewrite(self, lines: list[bytes]) -> None:
        if not lines:
            os.remove(self.path)
            return
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"".join(lines))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
