"""The instrument seam's creation and message hooks: `call_created` as a call is made,
`message_started` once per message for the call that produced it, `message_finished` at its
end."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator
from typing import Any

import pytest

from miniagents_lc import (
    AgentCall,
    Instrument,
    InteractionContext,
    Message,
    MessagePromise,
    MiniAgent,
    MiniAgents,
    instrumented,
    miniagent,
)
from miniagents_lc.promising.lowlevel import Onlooker, buffer_of


class MessageLog(Instrument):
    """The creation and message hooks it is told, as plain tuples."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.created_in: dict[str, asyncio.Task[Any] | None] = {}

    def call_created(self, call: AgentCall) -> None:
        self.created_in[call.alias] = asyncio.current_task()
        self.events.append(("created", call.alias))

    def call_started(self, call: AgentCall) -> None:
        self.events.append(("started", call.alias))

    def message_started(self, call: AgentCall, promise: MessagePromise) -> None:
        self.events.append(("message", call.alias))

    def message_finished(
        self, call: AgentCall, message: Message | None, error: BaseException | None
    ) -> None:
        text = message.text if message is not None else None
        self.events.append(("finished", call.alias, text, type(error).__name__ if error else None))


def _chain(depth: int) -> MiniAgent:
    """`level0` passes on the reply of `level1` ... down to `level{depth}`, which says "deep"."""

    @miniagent(alias=f"level{depth}")
    async def leaf(ctx: InteractionContext) -> None:
        ctx.reply("deep")

    agent = leaf
    for level in range(depth - 1, -1, -1):

        def make(below: MiniAgent, level: int) -> MiniAgent:
            @miniagent(alias=f"level{level}")
            async def passing_on(ctx: InteractionContext) -> None:
                ctx.reply(below.trigger(ctx.message_promises))

            return passing_on

        agent = make(agent, level)
    return agent


async def test_an_instrument_learns_of_a_call_in_the_creating_task_before_it_starts() -> None:
    log = MessageLog()
    async with MiniAgents(instruments=[log]):
        reply = _chain(1).trigger("go")
        made_here = asyncio.current_task()
        await reply.acollect_messages()
    assert log.created_in["level0"] is made_here
    assert log.events.index(("created", "level0")) < log.events.index(("started", "level0"))
    assert log.events.index(("created", "level1")) < log.events.index(("started", "level1"))


@pytest.mark.parametrize("depth", [0, 1, 3])
async def test_a_message_is_told_once_for_the_call_that_produced_it(depth: int) -> None:
    log = MessageLog()
    async with MiniAgents(instruments=[log]):
        assert [m.text for m in await _chain(depth).trigger("go").acollect_messages()] == ["deep"]
    messages = [event for event in log.events if event[0] in ("message", "finished")]
    assert messages == [("message", f"level{depth}"), ("finished", f"level{depth}", "deep", None)]


async def test_a_message_whose_stream_fails_finishes_with_its_error() -> None:
    class Broke(Exception):
        pass

    async def tokens(_promise: Any) -> AsyncIterator[str]:
        yield "half"
        raise Broke

    @miniagent(alias="flaky", errors_as_messages=False)
    async def flaky(ctx: InteractionContext) -> None:
        ctx.reply(MessagePromise(producer=tokens))

    log = MessageLog()
    async with MiniAgents(instruments=[log]):
        with pytest.raises(Broke):
            await flaky.trigger("go").acollect_messages()
    assert ("finished", "flaky", None, "Broke") in log.events


async def test_a_message_started_hook_can_follow_the_tokens_in_batches() -> None:
    """What the docs tell an instrument wanting tokens: follow the promise it is given."""
    followed: list[asyncio.Task[list[str]]] = []

    async def batches(promise: MessagePromise) -> list[str]:
        onlooker = Onlooker(buffer_of(promise))
        seen: list[str] = []
        while (batch := await onlooker.read()) is not None:
            seen.extend(batch)
        return seen

    class TokenFollower(Instrument):
        def message_started(self, call: AgentCall, promise: MessagePromise) -> None:
            followed.append(asyncio.get_running_loop().create_task(batches(promise)))

    async def tokens(_promise: Any) -> AsyncIterator[str]:
        for token in ("one ", "two ", "three"):
            await asyncio.sleep(0)
            yield token

    @miniagent(alias="talker")
    async def talker(ctx: InteractionContext) -> None:
        ctx.reply(MessagePromise(producer=tokens))

    async with MiniAgents():
        with instrumented(TokenFollower()):
            (message,) = await talker.trigger("go").acollect_messages()
        (task,) = followed
        assert "".join(await task) == message.text == "one two three"


async def test_following_a_reply_keeps_no_call_alive_that_nobody_holds() -> None:
    made: list[weakref.ref[AgentCall]] = []

    class Weak(MessageLog):
        def call_created(self, call: AgentCall) -> None:
            made.append(weakref.ref(call))

    @miniagent(alias="idle")
    async def idle(ctx: InteractionContext) -> None:
        ctx.reply("never asked for")

    async with MiniAgents(instruments=[Weak()]):
        reply = idle.trigger("go", schedule_immediately=False)  # never read: never ends
        del reply
        gc.collect()
        assert [call() for call in made] == [None]
