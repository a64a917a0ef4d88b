"""Order of execution vs order of replies (offline; no model, no network).

An aggregator triggers three sub-agents that take different times. They all start at once and
finish in the order of their durations, yet their replies reach the consumer in the order the
aggregator gave them. Each line carries the time since the program started:

    [0.00s] start   aggregator
    [0.00s] return  aggregator (its sub-agents keep running)
    [0.00s] start   slow_researcher (takes 0.6s)
    [0.00s] start   quick_fact_checker (takes 0.15s)
    ...
    [0.15s] finish  quick_fact_checker
    [0.30s] finish  medium_summarizer
    [0.60s] finish  slow_researcher
    [0.60s] reply 2 slow_researcher (read from 0.09s): ...
    [0.60s] reply 3 quick_fact_checker (read from 0.60s): ...

Reply 2 is read token by token while it is produced (from 0.09s on); reply 3 was complete at
0.15s but waits its turn, then replays at once from its buffer.

Run it with `python examples/parallel_agents.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from miniagents_lc import InteractionContext, Message, MiniAgents, miniagent

START = time.perf_counter()


def log(event: str) -> None:
    print(f"[{time.perf_counter() - START:.2f}s] {event}", flush=True)


@miniagent
async def worker(ctx: InteractionContext, seconds: float, finding: str) -> None:
    """Works for `seconds`, streaming its finding word by word as it goes."""
    alias = ctx.this_agent.alias
    log(f"start   {alias} (takes {seconds}s)")
    words = finding.split()

    async def tokens() -> AsyncIterator[str]:
        for number, word in enumerate(words):
            await asyncio.sleep(seconds / len(words))
            yield word if number == 0 else f" {word}"
        log(f"finish  {alias}")

    # The reply exists at once; its tokens stream while the worker is still working.
    ctx.reply(Message.promise(tokens(), agent=alias))


slow_researcher = worker.fork(
    "slow_researcher", seconds=0.6, finding="Asyncio runs many agents on one thread."
)
quick_fact_checker = worker.fork(
    "quick_fact_checker", seconds=0.15, finding="Checked: no claim is false."
)
medium_summarizer = worker.fork(
    "medium_summarizer", seconds=0.3, finding="Summary: parallel work, ordered replies."
)


@miniagent
async def aggregator(ctx: InteractionContext) -> None:
    """Asks three workers at once and replies with their findings between two lines of its own."""
    log("start   aggregator")
    ctx.reply(Message(text="Here is what the team found:", agent="aggregator"))
    ctx.reply(
        [slow_researcher.trigger(), quick_fact_checker.trigger(), medium_summarizer.trigger()]
    )
    ctx.reply(Message(text="That is all.", agent="aggregator"))
    log("return  aggregator (its sub-agents keep running)")


async def main() -> None:
    async with MiniAgents():
        replies = aggregator.trigger()
        log("trigger returned at once; reading the replies in reply order")
        number = 0
        async for message_promise in replies:
            number += 1
            tokens: list[str] = []
            first_read_at = ""
            async for token in message_promise:  # tokens arrive as they are produced
                if not tokens:
                    first_read_at = f"{time.perf_counter() - START:.2f}s"
                tokens.append(token)
            message = await message_promise
            log(f"reply {number} {message.agent} (read from {first_read_at}): " + "".join(tokens))
        log("all replies read")


if __name__ == "__main__":
    asyncio.run(main())
