"""The default `AsyncAnthropic` of an event loop: made at its first use in that loop, closed
when the loop shuts down (see `miniagents_lc.per_loop`)."""

from __future__ import annotations

import anthropic
from miniagents_lc.per_loop import PerLoop, sdk_ssl_context

__all__ = ["MISSING_KEY", "default_client"]

MISSING_KEY = (
    "AnthropicAgent needs an API key: set the ANTHROPIC_API_KEY environment variable, or fork "
    "the agent with client=anthropic.AsyncAnthropic(api_key=...)."
)


def _new_client() -> anthropic.AsyncAnthropic:
    context = sdk_ssl_context(anthropic.DefaultAsyncHttpxClient)
    http_client = anthropic.DefaultAsyncHttpxClient(verify=context) if context is not None else None
    client = anthropic.AsyncAnthropic(http_client=http_client)
    # The SDK also finds credentials in ANTHROPIC_AUTH_TOKEN and its credential profiles;
    # only when it finds none is the key missing.
    if client.api_key is None and client.auth_token is None and client.credentials is None:
        raise RuntimeError(MISSING_KEY)
    return client


_clients = PerLoop(_new_client, lambda client: client.close())


async def default_client() -> anthropic.AsyncAnthropic:
    """The running loop's default client, made from the environment on first use."""
    return await _clients.get()
