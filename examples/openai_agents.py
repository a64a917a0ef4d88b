"""Two OpenAI agents, one question, replies streamed token by token.

With OPENAI_API_KEY set it calls the real API (gpt-4o-mini); without it, it runs offline on
the adapter's test kit (`OpenAIMock`), which serves two scripted, paced streams to the real
`openai` SDK. Either way it says which, then prints the tokens as they arrive.

Run it with `python examples/openai_agents.py` (needs `miniagents-lc-openai[testing]`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from miniagents_lc_openai import OpenAIAgent

from miniagents_lc import InteractionContext, MiniAgents, miniagent
from miniagents_lc.demo.cli import OPENAI, run_program


@contextlib.contextmanager
def openai_backend() -> Iterator[dict[str, Any]]:
    """Yields the kwargs to fork OpenAIAgent with: the real API, or the offline kit."""
    if os.environ.get("OPENAI_API_KEY"):
        print("Using the real OpenAI API (OPENAI_API_KEY is set).\n")
        yield {"model": "gpt-4o-mini"}
        return
    from miniagents_lc_openai.testing import OpenAIMock

    print("OPENAI_API_KEY is not set: running offline on the OpenAIMock test kit.\n")
    with OpenAIMock() as mock:
        mock.chat(["Hello", " from", " the", " offline", " kit", "!"], delay=0.05)
        mock.chat([" Streams", " arrive", " token", " by", " token", "."], delay=0.02)
        yield {"model": "gpt-4o-mini", "client": mock.async_client()}


async def main() -> None:
    with openai_backend() as options:
        greeter = OpenAIAgent.fork("greeter", system="Greet the user in one sentence.", **options)
        explainer = OpenAIAgent.fork(
            "explainer", system="Explain streaming in one sentence.", **options
        )

        @miniagent
        async def panel(ctx: InteractionContext) -> None:
            """Asks both agents at once; their replies come back in this order."""
            ctx.reply(
                [greeter.trigger(ctx.message_promises), explainer.trigger(ctx.message_promises)]
            )

        async with MiniAgents():
            async for promise in panel.trigger("Hi! How do replies reach me?"):
                async for token in promise:
                    print(token, end="", flush=True)
                message = await promise
                print(f"\n  [model={message.model_name}, finish_reason={message.finish_reason}]")


if __name__ == "__main__":
    # An API error is one line saying what to do (`--traceback` shows it whole), as in the demo.
    run_program(main, OPENAI)
