"""The local record of a submitted batch, so another process can resume it by id.

Neither vendor keeps what thinllm needs to audit an item later (Anthropic batches
have no metadata at all), so thinllm writes one small JSON file per batch:
``custom_id -> (call id, tags, prompt hash, PII counts)``, the options used, and which
items already have their audit event. It never holds prompt or reply text, and never
a PII value (so pseudonyms cannot be restored in another process: the map stays in
memory, where the PII design keeps it).

Location: ``$THINLLM_STATE_DIR/batches/<job id>.json``; without the variable,
``$XDG_CACHE_HOME/thinllm/batches`` or ``~/.cache/thinllm/batches``. Files are
written atomically with owner-only permissions.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["SCHEMA", "load", "save", "state_dir"]

SCHEMA = "thinllm.batch/1"

_log = logging.getLogger("thinllm")
# Vendor ids are letters, digits, '_' and '-'; anything else could escape the folder.
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def state_dir() -> Path:
    """The folder holding batch records (read from the environment on every call)."""
    root = os.environ.get("THINLLM_STATE_DIR")
    if root:
        return Path(root) / "batches"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "thinllm" / "batches"


def _path(job_id: str) -> Path:
    if not _SAFE_ID.match(job_id) or job_id.startswith("."):
        raise ConfigurationError(f"not a batch id: {job_id!r}")
    return state_dir() / f"{job_id}.json"


def save(record: dict[str, Any]) -> Path | None:
    """Write ``record`` (atomically); on failure log a warning and return ``None``.

    A failed write must not lose the batch the vendor already accepted: the job object
    keeps working in this process, and the warning names the id to resume by.
    """
    path = _path(str(record["id"]))
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, separators=(",", ":"), sort_keys=True)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        _log.warning(
            "thinllm: could not write the batch record for %s to %s (%s); the job works in "
            "this process, but resuming it elsewhere will lack its tags and call ids",
            record["id"],
            path.parent,
            type(exc).__name__,
        )
        return None
    return path


def load(job_id: str) -> dict[str, Any] | None:
    """The record of ``job_id``, or ``None`` when there is none (or it is unreadable)."""
    path = _path(job_id)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        _log.warning("thinllm: ignoring unreadable batch record %s (%s)", path, exc)
        return None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        _log.warning("thinllm: ignoring batch record %s: unknown schema", path)
        return None
    return data
