"""Agents as tools, streamed in call order (offline; scripted models, no network).

A planner model calls three researcher agents as tools in one turn, plus a plain function.
The researchers start at once and finish in the order of their durations, yet their replies
stream into the planner's reply in the order the model called them, each one whole (the
first read token by token while it is produced, the others replayed from their buffers); then the
model reads their results and answers. Each line carries the time since the program started:

    [0.05s] start   historian (takes 0.6s)
    [0.05s] start   economist (takes 0.15s)
    ...
    [0.20s] finish  economist
    [0.65s] finish  historian
    [0.65s] text    (read from 0.13s) historian: The canal opened in 1869 ...
    [0.65s] text    (read from 0.65s) economist: ...
    ...
    [0.90s] answer  ...

Run it with `python examples/tool_agents.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from langchain_core.messages import AIMessage, ToolCall

from miniagents_lc import InteractionContext, Message, MessagePromise, miniagent, tool_agent
from miniagents_lc.testing import ScriptedToolModel

START = time.perf_counter()


def log(event: str) -> None:
    print(f"[{time.perf_counter() - START:.2f}s] {event}", flush=True)


def researcher(alias: str, seconds: float, finding: str) -> object:
    """An agent that works for `seconds`, streaming its finding word by word."""

    @miniagent(alias=alias, description=f"The {alias}: answers one research question.")
    async def research(ctx: InteractionContext) -> None:
        log(f"start   {alias} (takes {seconds}s)")
        words = finding.split()

        async def tokens(_promise: MessagePromise) -> AsyncIterator[str]:
            for number, word in enumerate(words):
                await asyncio.sleep(seconds / len(words))
                yield f"{alias}: {word}" if number == 0 else f" {word}"
            log(f"finish  {alias}")

        ctx.reply(Message.promise(tokens, role="assistant"))

    return research


async def word_count(text: str) -> int:
    """Count the words of a text."""
    return len(text.split())


RESEARCHERS = [
    researcher("historian", 0.6, "The canal opened in 1869 after ten years of work."),
    researcher("economist", 0.15, "About a tenth of world trade passes through it."),
    researcher("engineer", 0.3, "It has no locks: the sea level is the same at both ends."),
]

PLANNER = ScriptedToolModel(
    turns=[
        AIMessage(
            content="Asking the team.",
            tool_calls=[
                ToolCall(name="historian", args={"request": "When did it open?"}, id="c1"),
                ToolCall(name="economist", args={"request": "Why does it matter?"}, id="c2"),
                ToolCall(name="engineer", args={"request": "How is it built?"}, id="c3"),
                ToolCall(name="word_count", args={"text": "a canal between seas"}, id="c4"),
            ],
        ),
        AIMessage(content="In short: old, important, and flat."),
    ],
    first_token_delay=0.05,
    token_delay=0.02,
)


async def main() -> None:
    planner = tool_agent(PLANNER, [*RESEARCHERS, word_count], alias="planner")
    line, began = "", 0.0
    async for chunk in planner.astream("Tell me about the Suez canal."):
        if not line.strip():
            began = time.perf_counter() - START
        line += chunk.text
        while "\n\n" in line:
            done, line = line.split("\n\n", 1)
            if done:
                log(f"text    (read from {began:.2f}s) {done}")
            began = time.perf_counter() - START
    log(f"answer  {line}")
    results = [m for m in PLANNER.inputs[1] if m.type == "tool"]
    log("results " + " | ".join(f"{m.name}={m.text}" for m in results))
    log("done")


if __name__ == "__main__":
    asyncio.run(main())
