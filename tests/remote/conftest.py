"""Fixtures of the remote tests: real servers on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from miniagents_lc.remote import create_app

from .served import AGENTS
from .support import redis_server, serve_in_thread

GRACE = 0.3


@pytest.fixture
def base_url() -> Iterator[str]:
    """The test agents served in memory by uvicorn, in a thread."""
    with serve_in_thread(create_app(AGENTS, disconnect_grace=GRACE)) as url:
        yield url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of this test's own; the test fails saying why if it cannot start."""
    with redis_server() as url:
        yield url
