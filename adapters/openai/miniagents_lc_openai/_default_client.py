"""The default `AsyncOpenAI` of an event loop: made at its first use in that loop, closed when
the loop shuts down.

A client's pooled connections belong to the loop that opened them, so each loop gets its own
client, which calls in that loop share (keeping connections alive from one call to the next).
The client is closed by the loop's own shutdown of async generators, which `asyncio.run`,
`asyncio.Runner` and pytest-asyncio perform when they end a loop.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncGenerator

import openai

__all__ = ["default_client"]

_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[openai.AsyncOpenAI, AsyncGenerator[None, None]]
] = weakref.WeakKeyDictionary()


async def default_client() -> openai.AsyncOpenAI:
    """The running loop's default client, made from the environment on first use."""
    loop = asyncio.get_running_loop()
    entry = _clients.get(loop)
    if entry is not None:
        return entry[0]
    if not os.environ.get("OPENAI_API_KEY"):
        raise RuntimeError(
            "OpenAIAgent needs an API key: set the OPENAI_API_KEY environment variable, "
            "or fork the agent with client=openai.AsyncOpenAI(api_key=...)."
        )
    client = openai.AsyncOpenAI()
    closer = _close_at_loop_shutdown(loop, client)
    _clients[loop] = (client, closer)
    # Its first step registers the generator with the loop, whose shutdown then closes it.
    await anext(closer)
    return client


async def _close_at_loop_shutdown(
    loop: asyncio.AbstractEventLoop, client: openai.AsyncOpenAI
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if (entry := _clients.get(loop)) is not None and entry[0] is client:
            del _clients[loop]
        await client.close()
