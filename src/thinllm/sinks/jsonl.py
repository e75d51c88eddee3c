"""Append-only JSON Lines audit log, hash-chained, with size-based rotation."""

from __future__ import annotations

import json
import os
import threading
import time
from typing import IO, TYPE_CHECKING, Literal

from thinllm.errors import ConfigurationError

from ._filelock import file_lock
from ._rows import Prepared, normalize
from ._unicode import repaired

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from thinllm._events import CallEvent

__all__ = ["JSONLSink", "jsonl_files"]

FsyncPolicy = Literal["always", "interval", "never"]


#: ``CallEvent.to_json``'s encoder, built once (``json.dumps`` builds one per call).
_LINE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def _chained_line(event: CallEvent, head: str | None) -> tuple[bytes, str]:
    """The log line of ``event`` linked after ``head``, and its hash.

    Equal to ``normalize(event).chained(head).to_json()``, at a third of the cost: the
    hash comes from the SQL sinks' :class:`Prepared` and the line from one encoding.
    """
    digest = Prepared(event).link(head)[1]
    record = normalize(event).to_dict()
    record["prev_hash"], record["hash"] = head, digest
    return (_LINE(record) + "\n").encode(), digest


def jsonl_files(path: str, backups: int = 1000) -> list[str]:
    """The files of a rotated log, oldest first (``path.N`` … ``path.1``, ``path``)."""
    rotated = [f"{path}.{n}" for n in range(backups, 0, -1) if os.path.exists(f"{path}.{n}")]
    return [*rotated, path] if os.path.exists(path) else rotated


def _last_hash(paths: Sequence[str]) -> str | None:
    for path in reversed(paths):
        line = _last_line(path)
        if line:
            value: str | None = json.loads(line).get("hash")
            return value
    return None


def _last_line(path: str) -> bytes:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        chunk = b""
        pos = end
        # Read backwards until a full last line is in hand.
        while pos > 0:
            step = min(65_536, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(step) + chunk
            stripped = chunk.rstrip(b"\n")
            if b"\n" in stripped:
                return stripped.rsplit(b"\n", 1)[1]
        return chunk.strip()


class JSONLSink:
    """Appends one JSON line per event (``CallEvent.to_json()`` form, chained).

    ``fsync``: ``"always"`` (default) fsyncs after every line, so a returned event
    survives power loss; ``"interval"`` fsyncs at most every ``fsync_interval``
    seconds; ``"never"`` leaves it to the OS. Every policy writes the line to the
    OS before returning, so a killed process loses nothing.

    ``max_bytes`` rotates the file when the next line would make it larger: ``path``
    becomes ``path.1`` (``path.1`` becomes ``path.2`` …, keeping ``backups`` old
    files). The hash chain continues across files. Several processes may append to
    one log; an advisory lock (``path.lock``) keeps lines whole and the chain linear.
    Re-delivered events are appended again (de-duplicate by ``call_id`` on read).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fsync: FsyncPolicy = "always",
        fsync_interval: float = 1.0,
        max_bytes: int | None = None,
        backups: int = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fsync not in ("always", "interval", "never"):
            raise ConfigurationError(
                f"fsync must be 'always', 'interval' or 'never', not {fsync!r}"
            )
        if max_bytes is not None and max_bytes <= 0:
            raise ConfigurationError("max_bytes must be positive (or None for no rotation)")
        if backups < 1:
            raise ConfigurationError("backups must be at least 1 (rotation keeps path.1)")
        self.path = os.fspath(path)
        self.fsync = fsync
        self.fsync_interval = fsync_interval
        self.max_bytes = max_bytes
        self.backups = backups
        self._clock = clock
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._last_sync = clock()
        self._closed = False
        #: ((inode, size) of the file after our last write, chain head then).
        self._head: tuple[tuple[int, int], str | None] | None = None

    @property
    def spool_key(self) -> str:
        """Identity used by :class:`~thinllm.sinks.Delivery` to name this sink's spool."""
        return "jsonl:" + os.path.abspath(self.path)

    def __call__(self, event: CallEvent, /) -> None:
        """Append ``event``; return once written (and fsynced, per the policy)."""
        self.write_many((event,))

    def write_many(self, events: Sequence[CallEvent]) -> None:
        """Append ``events`` in order with one lock and (at most) one fsync."""
        with self._lock, file_lock(self.path):
            if self._closed:
                raise RuntimeError(f"JSONLSink({self.path!r}) is closed")
            f = self._current_file()
            stat = os.fstat(f.fileno())
            if self._head is not None and self._head[0] == (stat.st_ino, stat.st_size):
                head = self._head[1]  # nobody appended since our last write
            else:
                head = _last_hash(jsonl_files(self.path, self.backups))
            for event in events:
                try:
                    line, digest = _chained_line(event, head)
                except UnicodeEncodeError:  # a lone surrogate: store U+FFFD instead
                    line, digest = _chained_line(repaired(event), head)
                if (
                    self.max_bytes is not None
                    and f.tell()
                    and f.tell() + len(line) > self.max_bytes
                ):
                    f = self._rotate()
                f.write(line)
                head = digest
            f.flush()
            stat = os.fstat(f.fileno())
            self._head = ((stat.st_ino, stat.st_size), head)
            if self.fsync == "always" or (
                self.fsync == "interval" and self._clock() - self._last_sync >= self.fsync_interval
            ):
                os.fsync(f.fileno())
                self._last_sync = self._clock()

    def close(self) -> None:
        """Flush, fsync and close the file. Later writes raise."""
        with self._lock:
            self._closed = True
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                self._file = None

    def __enter__(self) -> JSONLSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<JSONLSink {self.path!r} fsync={self.fsync}>"

    def _current_file(self) -> IO[bytes]:
        # Another process may have rotated the log since we opened it.
        f = self._file
        if f is not None:
            try:
                same = os.path.samestat(os.fstat(f.fileno()), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                f.seek(0, os.SEEK_END)
                return f
            f.close()
        self._file = open(self.path, "ab")  # noqa: SIM115 - kept open across writes
        return self._file

    def _rotate(self) -> IO[bytes]:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        oldest = f"{self.path}.{self.backups}"
        if os.path.exists(oldest):
            os.remove(oldest)
        for n in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{self.path}.{n}"):
                os.replace(f"{self.path}.{n}", f"{self.path}.{n + 1}")
        os.replace(self.path, f"{self.path}.1")
        self._file = open(self.path, "ab")  # noqa: SIM115 - kept open across writes
        return self._file
