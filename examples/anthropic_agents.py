"""Two Anthropic agents, one question: replies streamed token by token, thinking kept apart,
a tool call assembled from its streamed input, and the usage with the prompt cache counted once.

With ANTHROPIC_API_KEY set it calls the real API (claude-sonnet-4-5); without it, it runs
offline on the adapter's test kit (`AnthropicMock`), which serves scripted, paced streams to
the real `anthropic` SDK. Either way it says which, then prints the tokens as they arrive.

Run it with `python examples/anthropic_agents.py` (needs `miniagents-lc-anthropic[testing]`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from miniagents_lc_anthropic import AnthropicAgent

from miniagents_lc import InteractionContext, MiniAgents, miniagent
from miniagents_lc.demo.cli import ANTHROPIC, run_program
from miniagents_lc.messages import thaw

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The current weather in a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


@contextlib.contextmanager
def anthropic_backend() -> Iterator[dict[str, Any]]:
    """Yields the kwargs to fork AnthropicAgent with: the real API, or the offline kit."""
    if os.environ.get("ANTHROPIC_API_KEY"):
        print("Using the real Anthropic API (ANTHROPIC_API_KEY is set).\n")
        yield {"model": "claude-sonnet-4-5"}
        return
    from miniagents_lc_anthropic.testing import AnthropicMock, ToolUse

    print("ANTHROPIC_API_KEY is not set: running offline on the AnthropicMock test kit.\n")
    with AnthropicMock() as mock:
        mock.messages(
            ["Hello", " from", " the", " offline", " kit", "!"],
            thinking=["A greeting", " is asked for."],
            signature="offline-signature",
            delay=0.05,
            usage={"input_tokens": 12, "cache_read_input_tokens": 2048},
        )
        mock.messages(
            ["Let me", " check", " Paris."],
            tool_uses=[ToolUse("get_weather", ['{"ci', 'ty": "Pa', 'ris"}'])],
            delay=0.02,
        )
        yield {"model": "claude-sonnet-4-5", "client": mock.async_client()}


async def main() -> None:
    with anthropic_backend() as options:
        greeter = AnthropicAgent.fork(
            "greeter",
            system="Greet the user in one sentence.",
            max_tokens=2048,
            thinking={"type": "enabled", "budget_tokens": 1024},
            **options,
        )
        forecaster = AnthropicAgent.fork(
            "forecaster", system="Use the tool to answer.", tools=[WEATHER_TOOL], **options
        )

        @miniagent
        async def panel(ctx: InteractionContext) -> None:
            """Asks both agents at once; their replies come back in this order."""
            ctx.reply(
                [greeter.trigger(ctx.message_promises), forecaster.trigger(ctx.message_promises)]
            )

        async with MiniAgents():
            async for promise in panel.trigger("Hi! What's the weather in Paris?"):
                async for token in promise:
                    print(token, end="", flush=True)
                message = await promise
                print(f"\n  [model={message.model_name}, stop_reason={message.finish_reason}]")
                if thinking := message.model_dump().get("thinking"):
                    print(f"  [thinking: {thinking}]")
                for call in message.tool_calls:
                    print(f"  [tool call: {call['name']}({thaw(call['args'])})]")
                print(f"  [usage: {thaw(message.usage)}]")


if __name__ == "__main__":
    # An API error is one line saying what to do (`--traceback` shows it whole), as in the demo.
    run_program(main, ANTHROPIC)
