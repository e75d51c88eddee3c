"""The local batch record: where it lives, what it holds, and what it never holds."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
from _batch_helpers import FakeClock, make_client

from thinllm import ConfigurationError, Prompt, Tags, user
from thinllm._batch import _state
from thinllm.pii import Pseudonymize, Redact
from thinllm.sinks import MemorySink
from thinllm.testing import FakeVendor

EMAIL = "jane.doe@corp-mail.com"


class TestState:
    def test_record_is_owner_only_json_under_the_state_dir(
        self, fake: FakeVendor, clock: FakeClock, state_dir: Path
    ) -> None:
        """Each batch leaves <THINLLM_STATE_DIR>/batches/<id>.json, readable by its owner only."""
        client = make_client(fake, "anthropic", clock)
        job = client.batch([Prompt(messages=[user("hi")])], tags=Tags(user="u"), max_tokens=16)
        path = state_dir / f"{job.id}.json"
        record = json.loads(path.read_text())
        assert 0o600 == stat.S_IMODE(path.stat().st_mode)
        assert (job.id, "claude-sonnet-5-5", "messages") == (
            record["id"],
            record["route"],
            record["api"],
        )
        assert [{"user": "u"}] == [i["tags"] for i in record["items"]]
        assert {"max_tokens": 16} == record["options"]

    def test_record_never_holds_prompt_text_or_pii(
        self, fake: FakeVendor, clock: FakeClock, state_dir: Path
    ) -> None:
        """The record keeps call ids, tags and PII counts, never the prompt, the reply or a PII value."""
        fake.reply("a reply text")
        client = make_client(fake, "openai-chat", clock, pii=Redact())
        job = client.batch(
            [Prompt(system="secret instructions", messages=[user(f"mail {EMAIL}")])],
            max_tokens=16,
        )
        job.wait()
        text = (state_dir / f"{job.id}.json").read_text()
        for needle in (EMAIL, "secret instructions", "a reply text", "[EMAIL_1]"):
            assert needle not in text
        assert {"EMAIL": 1} == json.loads(text)["items"][0]["pii"]

    def test_resumed_pseudonymized_batch_keeps_placeholders_and_warns(
        self, fake: FakeVendor, clock: FakeClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Elsewhere the pseudonym map is gone (never on disk): replies keep placeholders, with a warning."""
        fake.reply(lambda req: "to " + req.text.split()[-1])
        client = make_client(fake, "anthropic", clock, pii=Pseudonymize())
        job = client.batch([Prompt(messages=[user(f"write {EMAIL}")])], max_tokens=16)
        other = make_client(fake, "anthropic", clock, MemorySink(), pii=Pseudonymize())
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            [reply] = other.batch_job(job.id).results()
        assert "to <EMAIL_1>" == reply.text
        assert "pseudonym map is never written" in caplog.text
        assert f"to {EMAIL}" == job.results()[0].text  # the submitting process still can

    def test_unwritable_state_dir_warns_but_the_job_works(
        self,
        fake: FakeVendor,
        clock: FakeClock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """If the record cannot be written the job still completes in this process, with a warning."""
        blocker = tmp_path / "not-a-dir"
        blocker.write_text("")
        monkeypatch.setenv("THINLLM_STATE_DIR", str(blocker))
        client = make_client(fake, "anthropic", clock)
        with caplog.at_level(logging.WARNING, logger="thinllm"):
            job = client.batch([Prompt(messages=[user("hi")])], max_tokens=16)
        assert "could not write the batch record" in caplog.text
        assert ["ok"] == [r.outcome for r in job.wait()]

    def test_default_location_follows_xdg_cache_home(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without THINLLM_STATE_DIR records go under $XDG_CACHE_HOME/thinllm/batches."""
        monkeypatch.delenv("THINLLM_STATE_DIR")
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        assert tmp_path / "thinllm" / "batches" == _state.state_dir()

    @pytest.mark.parametrize("bad", ["../etc/passwd", "a/b", ".hidden", ""])
    def test_ids_cannot_escape_the_folder(self, bad: str) -> None:
        """A batch id with path characters is refused rather than used as a file name."""
        with pytest.raises(ConfigurationError):
            _state.load(bad)
