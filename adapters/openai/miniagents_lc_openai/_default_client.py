"""The default `AsyncOpenAI` of an event loop: made at its first use in that loop, closed when
the loop shuts down (see `miniagents_lc.per_loop`)."""

from __future__ import annotations

import os

import openai
from miniagents_lc.per_loop import PerLoop, sdk_ssl_context

__all__ = ["default_client"]


def _new_client() -> openai.AsyncOpenAI:
    context = sdk_ssl_context(openai.DefaultAsyncHttpxClient)
    if context is None:
        return openai.AsyncOpenAI()
    return openai.AsyncOpenAI(http_client=openai.DefaultAsyncHttpxClient(verify=context))


_clients = PerLoop(_new_client, lambda client: client.close())


async def default_client() -> openai.AsyncOpenAI:
    """The running loop's default client, made from the environment on first use."""
    if not os.environ.get("OPENAI_API_KEY"):
        raise RuntimeError(
            "OpenAIAgent needs an API key: set the OPENAI_API_KEY environment variable, "
            "or fork the agent with client=openai.AsyncOpenAI(api_key=...)."
        )
    return await _clients.get()
