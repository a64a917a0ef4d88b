"""The default `AsyncOpenAI` of an event loop: made at its first use in that loop, closed when
the loop shuts down.

A client's pooled connections belong to the loop that opened them, so each loop gets its own
client, which calls in that loop share (keeping connections alive from one call to the next).
The client is closed by the loop's own shutdown of async generators, which `asyncio.run`,
`asyncio.Runner` and pytest-asyncio perform when they end a loop.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import sys
import weakref
from collections.abc import AsyncGenerator
from typing import cast

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
    client = _new_client()
    closer = _close_at_loop_shutdown(loop, client)
    _clients[loop] = (client, closer)
    # Its first step registers the generator with the loop, whose shutdown then closes it.
    await anext(closer)
    return client


def _new_client() -> openai.AsyncOpenAI:
    context = _ssl_context()
    if context is None:
        return openai.AsyncOpenAI()
    return openai.AsyncOpenAI(http_client=openai.DefaultAsyncHttpxClient(verify=context))


@functools.cache
def _ssl_context() -> ssl.SSLContext | None:
    """The trusted certificates, loaded once per process by the SDK's own HTTP stack (it takes
    tens of milliseconds, and a context serves every loop); None for a stack not known here."""
    for name in ("httpx2", "httpx"):
        stack = sys.modules.get(name)
        if stack is not None and issubclass(openai.DefaultAsyncHttpxClient, stack.AsyncClient):
            create = getattr(stack, "create_ssl_context", None)  # not in every httpx release
            return cast("ssl.SSLContext", create()) if create is not None else None
    return None


async def _close_at_loop_shutdown(
    loop: asyncio.AbstractEventLoop, client: openai.AsyncOpenAI
) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if (entry := _clients.get(loop)) is not None and entry[0] is client:
            del _clients[loop]
        await client.close()
