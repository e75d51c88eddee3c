"""Fixtures for the sink tests: an event factory, a private spool dir, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pytest
from sinkkit import EventFactory, build_event

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def make_event() -> EventFactory:
    """Build a :class:`CallEvent` (``make_event(n, **overrides)``)."""
    return build_event


@pytest.fixture
def spool_dir(tmp_path: Path) -> str:
    """A private spool directory (so tests never touch the user's cache dir)."""
    return str(tmp_path / "spool")


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A DSN to a fresh, private schema on the test PostgreSQL server.

    Skips when ``THINLLM_TEST_POSTGRES_DSN`` is unset, but fails under ``CI=true``
    so CI cannot silently skip the PostgreSQL tests.
    """
    dsn = os.environ.get("THINLLM_TEST_POSTGRES_DSN")
    if not dsn:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but THINLLM_TEST_POSTGRES_DSN is unset: run .ci/postgres.sh first")
        pytest.skip('PostgreSQL tests need THINLLM_TEST_POSTGRES_DSN (eval "$(.ci/postgres.sh)")')
    import psycopg  # a test dependency: a missing driver is an error, not a skip
    schema = f"thinllm_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in dsn else "?"
        yield f"{dsn}{sep}options=-c%20search_path%3D{schema}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
