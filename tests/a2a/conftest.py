"""Fixtures of the A2A tests: the test agents served by `create_a2a_app` with real uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from a2a_agents import failing, gated, team, traced, words
from a2a_support import TOKEN, served
from starlette.applications import Starlette
from starlette.routing import Mount

from miniagents_lc.a2a import create_a2a_app


@pytest.fixture(scope="session")
def agents_url() -> Iterator[str]:
    """One server, an A2A agent per test agent at `/{alias}`."""
    apps = {agent.alias: create_a2a_app(agent) for agent in (words, gated, team, failing, traced)}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # Mounted apps' lifespans run inside the parent's (Starlette runs none of them).
        async with AsyncExitStack() as stack:
            for mounted in apps.values():
                await stack.enter_async_context(mounted.router.lifespan_context(mounted))
            yield

    app = Starlette(
        routes=[Mount(f"/{alias}", mounted) for alias, mounted in apps.items()], lifespan=lifespan
    )
    with served(app) as url:
        yield url


@pytest.fixture(scope="session")
def guarded_url() -> Iterator[str]:
    """`words` served with a bearer token required."""
    with served(create_a2a_app(words, token=TOKEN)) as url:
        yield url
