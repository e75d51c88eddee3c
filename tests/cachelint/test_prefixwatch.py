"""PrefixWatch: the runtime warning when a workflow's static prefix keeps changing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from thinllm._cachelint import PrefixWatch

if TYPE_CHECKING:
    import pytest


class TestPrefixWatch:
    def test_stable_prefix_never_warns(self) -> None:
        """A workflow that always sends the same static prefix is left alone."""
        logged: list[str] = []
        watch = PrefixWatch(log=logged.append)
        assert not any(watch("triage", "h1") for _ in range(100))
        assert logged == []

    def test_churning_prefix_warns_once(self) -> None:
        """A prefix that changes per call is reported once, naming the workflow and the fix."""
        logged: list[str] = []
        watch = PrefixWatch(log=logged.append)
        fired = [watch("triage", f"h{i}") for i in range(50)]
        assert fired[:4] == [False, False, False, True]
        assert sum(fired) == 1
        assert len(logged) == 1
        assert "'triage'" in logged[0]
        assert "thinllm cache lint" in logged[0]

    def test_a_few_variants_are_tolerated(self) -> None:
        """Up to three prompt variants in the last 20 calls (e.g. A/B) do not warn."""
        watch = PrefixWatch(log=lambda _: None)
        assert not any(watch("triage", f"h{i % 3}") for i in range(200))

    def test_only_recent_calls_count(self) -> None:
        """A prompt change rolled out over time does not warn once the old hashes age out."""
        watch = PrefixWatch(log=lambda _: None)
        fired = [watch("triage", f"v{i // 20}") for i in range(200)]
        assert not any(fired)

    def test_workflows_are_tracked_separately(self) -> None:
        """Each workflow has its own history: three workflows with stable prefixes are fine."""
        watch = PrefixWatch(log=lambda _: None)
        assert not any(watch(f"w{i % 5}", f"h{i % 5}") for i in range(100))

    def test_logs_to_the_thinllm_logger(self, caplog: pytest.LogCaptureFixture) -> None:
        """By default the warning goes to the 'thinllm' logger, where apps already look."""
        watch = PrefixWatch(window=5, max_distinct=1)
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            watch(None, "a")
            watch(None, "b")
        assert len(caplog.records) == 1
        assert "no workflow tag" in caplog.records[0].getMessage()

    def test_no_hash_is_ignored(self) -> None:
        """Calls without a prompt hash (blocked before rendering) are not counted."""
        watch = PrefixWatch(window=2, max_distinct=0, log=lambda _: None)
        assert not watch("w", None)

    def test_reset_re_arms(self) -> None:
        """After reset() a workflow that still churns is reported again."""
        logged: list[str] = []
        watch = PrefixWatch(window=3, max_distinct=1, log=logged.append)
        watch("w", "a")
        watch("w", "b")
        watch.reset()
        watch("w", "a")
        watch("w", "b")
        assert len(logged) == 2

    def test_memory_is_bounded(self) -> None:
        """Unbounded workflow names do not grow memory past max_workflows."""
        watch = PrefixWatch(max_workflows=10, log=lambda _: None)
        for i in range(1000):
            watch(f"w{i}", "h")
        assert len(watch._recent) == 10
