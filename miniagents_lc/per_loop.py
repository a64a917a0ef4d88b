"""One resource per event loop, for provider adapters: a default SDK client, say.

An SDK client's pooled connections belong to the loop that opened them, so a client made
without the caller's help must not outlive its loop or serve another. `PerLoop` makes one at
its first use in each loop, hands the same one to every later use in that loop (keeping
connections alive from one call to the next), and closes it when the loop shuts down its async
generators, which `asyncio.run`, `asyncio.Runner` and pytest-asyncio do when they end a loop.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import sys
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Generic, TypeVar, cast

__all__ = ["PerLoop", "sdk_ssl_context"]

T = TypeVar("T")


class PerLoop(Generic[T]):
    """Makes a `T` with `make()` at its first use in a running loop and closes it with
    `close(resource)` when that loop shuts down; every use in the same loop gets the same one.

    `make` may raise (a missing API key, say): nothing is kept then, and the next use tries
    again.
    """

    def __init__(self, make: Callable[[], T], close: Callable[[T], Awaitable[object]]) -> None:
        self._make = make
        self._close = close
        self._entries: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[T, AsyncGenerator[None, None]]
        ] = weakref.WeakKeyDictionary()

    async def get(self) -> T:
        """The running loop's resource, made on first use."""
        loop = asyncio.get_running_loop()
        entry = self._entries.get(loop)
        if entry is not None:
            return entry[0]
        resource = self._make()
        closer = self._close_at_loop_shutdown(loop, resource)
        self._entries[loop] = (resource, closer)
        # Its first step registers the generator with the loop, whose shutdown then closes it.
        await anext(closer)
        return resource

    async def _close_at_loop_shutdown(
        self, loop: asyncio.AbstractEventLoop, resource: T
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if (entry := self._entries.get(loop)) is not None and entry[0] is resource:
                del self._entries[loop]
            await self._close(resource)


@functools.cache
def sdk_ssl_context(http_client_class: type) -> ssl.SSLContext | None:
    """The trusted certificates for an SDK whose default HTTP client is `http_client_class`,
    loaded once per process by that client's own HTTP library (httpx2 or httpx).

    Loading them takes tens of milliseconds and one context serves every loop, so clients made
    per loop pass it as `verify`. None for an HTTP library not known here.
    """
    for name in ("httpx2", "httpx"):
        stack = sys.modules.get(name)
        if stack is not None and issubclass(http_client_class, stack.AsyncClient):
            create = getattr(stack, "create_ssl_context", None)  # not in every httpx release
            return cast("ssl.SSLContext", create()) if create is not None else None
    return None
