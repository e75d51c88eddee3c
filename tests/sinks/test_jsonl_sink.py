"""JSONLSink: append-only, chained, rotated by size with the chain continuing."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from sinkkit import EventFactory, run_python

from thinllm._events import CallEvent
from thinllm._store._verify import verify_chain
from thinllm.errors import ConfigurationError
from thinllm.sinks import JSONLSink
from thinllm.sinks._rows import normalize
from thinllm.sinks.jsonl import jsonl_files

if TYPE_CHECKING:
    from pathlib import Path


#: Appends argv[3] events to JSONL file argv[1] (rotating at 20 kB), printing each call_id.
CHILD_WRITER = """
import sys, uuid
from thinllm._events import CallEvent
from thinllm.sinks import JSONLSink
path, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sink = JSONLSink(path, fsync="never", max_bytes=20_000, backups=100)
usage = {"input_tokens": 1, "output_tokens": 1, "cache_read_tokens": 0, "cache_write_tokens": 0}
for n in range(count):
    call_id = f"{prefix}-{n}-{uuid.uuid4().hex[:8]}"
    sink(CallEvent(call_id=call_id, ts="2026-11-10T09:00:00+00:00", latency_ms=1.0,
                   tags={"cost_center": prefix}, outcome="ok", route="primary",
                   provider="anthropic", model="claude-haiku-4-5", attempts=(), usage=usage,
                   cost_usd="0.000001"))
    print(call_id, flush=True)
sink.close()
"""


def _read(path: str, backups: int = 1000) -> list[CallEvent]:
    out: list[CallEvent] = []
    for file in jsonl_files(path, backups):
        with open(file, encoding="utf-8") as f:
            out.extend(CallEvent.from_dict(json.loads(line)) for line in f)
    return out


class TestJSONLSink:
    def test_rotation_keeps_one_chain(self, tmp_path: Path, make_event: EventFactory) -> None:
        """Rotated files read oldest-first form one valid chain across file boundaries."""
        path = str(tmp_path / "audit.jsonl")
        with JSONLSink(path, max_bytes=3000, backups=50) as sink:
            for n in range(20):
                sink(make_event(n))
        files = jsonl_files(path)
        events = _read(path)
        assert len(files) > 3
        assert len(events) == 20
        assert verify_chain((i, e, True) for i, e in enumerate(events)).ok

    def test_old_files_beyond_backups_are_removed(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """Only ``backups`` rotated files are kept; what remains still verifies from its start."""
        path = str(tmp_path / "audit.jsonl")
        with JSONLSink(path, max_bytes=1500, backups=2) as sink:
            for n in range(12):
                sink(make_event(n))
        assert [f"{path}.2", f"{path}.1", path] == jsonl_files(path)
        events = _read(path)
        assert verify_chain(((i, e, True) for i, e in enumerate(events)), anchored=False).ok

    def test_reopening_continues_the_chain(self, tmp_path: Path, make_event: EventFactory) -> None:
        """A new sink on an existing log links its first event to the last one written."""
        path = str(tmp_path / "audit.jsonl")
        for n in range(3):
            with JSONLSink(path, fsync="never") as sink:
                sink(make_event(n))
        assert verify_chain((i, e, True) for i, e in enumerate(_read(path))).ok

    @pytest.mark.parametrize("policy", ["always", "interval", "never"])
    def test_every_fsync_policy_writes_before_returning(
        self, tmp_path: Path, make_event: EventFactory, policy: str
    ) -> None:
        """Whatever the fsync policy, the line is in the file when the call returns."""
        path = str(tmp_path / "audit.jsonl")
        sink = JSONLSink(path, fsync=policy)
        event = make_event(0)
        sink(event)
        assert event.call_id == _read(path)[0].call_id
        sink.close()

    def test_four_processes_one_chain_across_rotations(self, tmp_path: Path) -> None:
        """Four processes appending to one log (with rotation) leave every event in one chain."""
        path = str(tmp_path / "audit.jsonl")
        children = [run_python(CHILD_WRITER, path, f"p{i}", "80") for i in range(4)]
        printed: set[str] = set()
        for child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            printed.update(out.split())
        stored = _read(path)
        assert len(jsonl_files(path)) > 1  # it did rotate
        assert (320, printed) == (len(stored), {e.call_id for e in stored})
        result = verify_chain((i, e, True) for i, e in enumerate(stored))
        assert result.ok, result.describe()

    def test_lines_are_the_chained_events_json(
        self, tmp_path: Path, make_event: EventFactory
    ) -> None:
        """Each line is exactly CallEvent.to_json() of the chained event (readers rely on it)."""
        path = str(tmp_path / "a.jsonl")
        first, second = make_event(0, latency_ms=3), make_event(1)
        with JSONLSink(path) as sink:
            sink(first)
            sink(second)
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        one = normalize(first).chained(None)
        two = normalize(second).chained(one.hash)
        assert lines == [one.to_json(), two.to_json()]

    def test_rejects_unknown_policy(self, tmp_path: Path) -> None:
        """A typo in the fsync policy fails at construction."""
        with pytest.raises(ConfigurationError):
            JSONLSink(str(tmp_path / "a.jsonl"), fsync="sometimes")
