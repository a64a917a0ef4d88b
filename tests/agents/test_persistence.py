"""Persistence: every resolved message reaches the `on_persist_messages` handlers once."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from miniagents_lc import InteractionContext, Message, MiniAgents, miniagent
from miniagents_lc.testing import settle


class Recorder:
    """An `on_persist_messages` handler that keeps every batch it gets."""

    def __init__(self) -> None:
        self.batches: list[tuple[Message, ...]] = []

    async def handle(self, messages: tuple[Message, ...]) -> None:
        self.batches.append(messages)

    @property
    def messages(self) -> list[Message]:
        return [message for batch in self.batches for message in batch]

    @property
    def texts(self) -> list[str]:
        return [str(message) for message in self.messages]


def recording(context: MiniAgents) -> Recorder:
    recorder = Recorder()
    context.on_persist_messages(recorder.handle)
    return recorder


async def tokens(*pieces: str) -> AsyncIterator[str]:
    for piece in pieces:
        await asyncio.sleep(0)  # one task switch per token, as a stream gives
        yield piece


async def test_each_resolved_message_reaches_the_handler_exactly_once(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent
    async def sub(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(tokens("sub ", "reply"), role="assistant"))

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        async for message_promise in ctx.message_promises:
            ctx.reply(f"echo: {await message_promise}")
        ctx.reply(Message.promise(tokens("str", "eamed")))
        ctx.reply(sub.trigger(schedule_immediately=scheduling.schedule_immediately))

    async with agents_context() as context:
        recorder = recording(context)
        replies = agent.trigger("question", schedule_immediately=scheduling.schedule_immediately)
        # Consumed three times: replays must not persist anything again.
        for _ in range(3):
            messages = await replies.acollect_messages()

    expected = ["question", "echo: question", "streamed", "sub reply"]
    assert [str(m) for m in messages] == expected[1:]
    assert sorted(recorder.texts) == sorted(expected)
    assert Counter(m.hash_key for m in recorder.messages) == {
        m.hash_key: 1 for m in recorder.messages
    }


async def test_the_persisted_message_is_the_resolved_message(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(tokens("a", "b", "c"), role="assistant", score=3))

    async with agents_context() as context:
        recorder = recording(context)
        (message,) = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert recorder.messages == [message]
    assert message.text == "abc"
    assert message.role == "assistant"


async def test_equal_messages_are_persisted_once(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply("same")
        ctx.reply(Message(text="same"))
        ctx.reply(Message.promise(tokens("sa", "me")))
        ctx.reply({"text": "same"})

    async with agents_context() as context:
        recorder = recording(context)
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert [str(m) for m in messages] == ["same"] * 4
    assert recorder.texts == ["same"]


async def test_a_message_forwarded_by_several_agents_is_persisted_once(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    flag = scheduling.schedule_immediately

    @miniagent
    async def source(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(tokens("for", "warded")))

    @miniagent
    async def relay(ctx: InteractionContext) -> None:
        ctx.reply(ctx.message_promises)

    async with agents_context() as context:
        recorder = recording(context)
        replies = relay.trigger(
            relay.trigger(source.trigger(schedule_immediately=flag), schedule_immediately=flag),
            schedule_immediately=flag,
        )
        messages = await replies.acollect_messages()

    assert [str(m) for m in messages] == ["forwarded"]
    assert recorder.texts == ["forwarded"]


async def test_messages_nested_in_fields_are_persisted_once_before_their_container(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    inner = Message(text="inner")
    listed = Message(text="listed")
    outer = Message(text="outer", quote=inner, attachments=[listed, inner])

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(outer)
        ctx.reply(Message(text="second outer", quote=inner))

    async with agents_context() as context:
        recorder = recording(context)
        await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert sorted(recorder.texts) == ["inner", "listed", "outer", "second outer"]
    batch_of_outer = next(batch for batch in recorder.batches if outer in batch)
    position = {str(m): i for i, m in enumerate(batch_of_outer)}
    assert position["inner"] < position["outer"]
    assert position["listed"] < position["outer"]


async def test_a_message_persisted_on_its_own_is_not_persisted_again_when_nested(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    inner = Message(text="inner")

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(inner)
        await settle()  # the first reply is persisted on its own
        ctx.reply(Message(text="outer", quote=inner))

    async with agents_context() as context:
        recorder = recording(context)
        await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert recorder.texts == ["inner", "outer"]


async def test_every_registered_handler_gets_every_message(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(["one", "two"])

    async with agents_context() as context:
        first = recording(context)
        second = recording(context)
        await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert sorted(first.texts) == sorted(second.texts) == ["one", "two"]


async def test_failing_handler_is_logged_with_traceback_and_does_not_break_the_stream(
    scheduling: Any,
    agents_context: Callable[[], MiniAgents],
    caplog: pytest.LogCaptureFixture,
) -> None:
    class HandlerBroke(Exception):
        pass

    async def failing_handler(messages: tuple[Message, ...]) -> None:
        raise HandlerBroke(f"cannot store {len(messages)} messages")

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(["one", Message.promise(tokens("t", "wo"))])
        ctx.reply("three")

    caplog.set_level(logging.ERROR)
    async with agents_context() as context:
        context.on_persist_messages(failing_handler)
        recorder = recording(context)
        messages = await agent.trigger(
            schedule_immediately=scheduling.schedule_immediately
        ).acollect_messages()

    assert [str(m) for m in messages] == ["one", "two", "three"]
    # The handler after the failing one still got everything.
    assert sorted(recorder.texts) == ["one", "three", "two"]
    failures = [r for r in caplog.records if r.exc_info and r.exc_info[0] is HandlerBroke]
    assert len(failures) == 3
    for record in failures:
        assert record.levelno == logging.ERROR
        assert "failing_handler" in record.getMessage()
        assert record.exc_info is not None
        traceback_text = logging.Formatter().formatException(record.exc_info)
        assert "Traceback" in traceback_text
        assert "in failing_handler" in traceback_text


async def test_sync_persist_handler_is_refused() -> None:
    def not_async(messages: tuple[Message, ...]) -> None:
        pass

    async with MiniAgents() as context:
        with pytest.raises(TypeError, match="async"):
            context.on_persist_messages(not_async)  # type: ignore[arg-type]


async def test_a_message_resolved_before_its_agent_is_stopped_is_still_persisted() -> None:
    persisted: list[str] = []
    persisting = asyncio.Event()
    may_finish = asyncio.Event()

    async def slow_handler(messages: tuple[Message, ...]) -> None:
        persisting.set()
        await may_finish.wait()  # still persisting when the agent is stopped
        persisted.extend(str(message) for message in messages)

    @miniagent
    async def lingering(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(tokens("kept ", "anyway")))
        await asyncio.Event().wait()  # never ends by itself

    async def read_first_message(replies: Any, read: asyncio.Event) -> None:
        async for promise in replies:
            await promise
            read.set()

    async with MiniAgents() as context:
        context.on_persist_messages(slow_handler)
        read = asyncio.Event()
        reader = asyncio.create_task(read_first_message(lingering.trigger(), read))
        async with asyncio.timeout(5):
            await read.wait()
            await persisting.wait()
            reader.cancel()  # the only reader: the agent is stopped
            with pytest.raises(asyncio.CancelledError):
                await reader
            await settle()  # the stop has gone as far as it goes
            may_finish.set()

    assert persisted == ["kept anyway"]


async def test_messages_nested_in_a_set_field_are_persisted() -> None:
    tagged = Message(text="outer", related=frozenset({Message(text="a"), Message(text="b")}))

    @miniagent
    async def agent(ctx: InteractionContext) -> None:
        ctx.reply(tagged)

    async with MiniAgents() as context:
        recorder = recording(context)
        await agent.trigger().acollect_messages()

    assert sorted(recorder.texts) == ["a", "b", "outer"]
