"""MessagePromise: a message whose text streams as str tokens and resolves to a Message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from miniagents_lc.messages import FrozenDict, Message, MessagePromise
from miniagents_lc.promising import AppendProducer

TOKENS = ["Hel", "lo", ", ", "world"]


async def tokens_of(promise: MessagePromise) -> list[str]:
    return [token async for token in promise]


async def consume_into(tokens: list[str], promise: MessagePromise) -> None:
    async for token in promise:
        tokens.append(token)


async def generate(tokens: list[Any]) -> AsyncIterator[Any]:
    for token in tokens:
        yield token


def as_async_generator(tokens: list[Any]) -> Any:
    return generate(tokens)


def as_producer_function(tokens: list[Any]) -> Any:
    async def producer(_promise: MessagePromise) -> AsyncIterator[Any]:
        for token in tokens:
            yield token

    return producer


def as_append_producer(tokens: list[Any]) -> Any:
    producer: AppendProducer[Any] = AppendProducer()
    with producer:
        for token in tokens:
            producer.append(token)
    return producer


TOKEN_PRODUCERS = [
    pytest.param(as_async_generator, id="async-generator"),
    pytest.param(as_producer_function, id="producer-function"),
    pytest.param(as_append_producer, id="append-producer"),
]


@pytest.mark.parametrize("make_producer", TOKEN_PRODUCERS)
async def test_await_gives_a_message_with_the_joined_tokens_and_the_given_fields(
    scheduling, make_producer: Callable[[list[Any]], Any]
):
    async with scheduling.context():
        promise = Message.promise(
            make_producer(TOKENS),
            schedule_immediately=scheduling.schedule_immediately,
            role="assistant",
            meta={"model": ["m", 1]},
        )
        async with asyncio.timeout(5):
            assert await tokens_of(promise) == TOKENS
            message = await promise
            assert await promise is message

    assert type(message) is Message
    assert message.text == "Hello, world"
    assert message.role == "assistant"
    assert message.meta == FrozenDict(model=("m", 1))  # type: ignore[attr-defined]


async def test_tokens_reach_the_consumer_while_the_message_is_still_being_produced(scheduling):
    gate = asyncio.Event()

    async def producer(_promise: MessagePromise) -> AsyncIterator[str]:
        yield "first"
        await gate.wait()
        yield "second"

    async with scheduling.context():
        promise = Message.promise(producer, schedule_immediately=scheduling.schedule_immediately)
        iterator = aiter(promise)
        async with asyncio.timeout(5):
            assert await anext(iterator) == "first"
            assert not promise.done
            gate.set()
            assert await anext(iterator) == "second"
            assert (await promise).text == "firstsecond"


async def test_the_token_producer_can_add_fields_before_it_ends(scheduling):
    async def producer(promise: MessagePromise) -> AsyncIterator[str]:
        yield "answer"
        promise.set_fields(usage={"input_tokens": 3, "output_tokens": 1}, finish_reason="stop")

    async with scheduling.context():
        promise = Message.promise(
            producer, schedule_immediately=scheduling.schedule_immediately, role="assistant"
        )
        message = await promise

    assert message.text == "answer"
    assert message.role == "assistant"
    assert message.usage == {"input_tokens": 3, "output_tokens": 1}  # type: ignore[attr-defined]
    assert isinstance(message.usage, FrozenDict)  # type: ignore[attr-defined]
    assert message.finish_reason == "stop"  # type: ignore[attr-defined]


async def test_set_fields_after_the_message_is_produced_raises(scheduling):
    async with scheduling.context():
        promise = Message.promise(
            generate(["done"]), schedule_immediately=scheduling.schedule_immediately
        )
        await promise
        with pytest.raises(RuntimeError, match="set_fields"):
            promise.set_fields(late=True)
    assert "late" not in (await promise).model_dump()


@pytest.mark.parametrize("make_producer", TOKEN_PRODUCERS)
@pytest.mark.parametrize(
    ("bad_token", "type_name"),
    [(42, "int"), (b"bytes", "bytes"), (None, "NoneType"), (["a"], "list")],
)
async def test_a_non_str_token_raises_type_error_naming_its_type_at_its_position(
    scheduling, make_producer: Callable[[list[Any]], Any], bad_token: Any, type_name: str
):
    async with scheduling.context():
        promise = Message.promise(
            make_producer(["ok", bad_token, "never"]),
            schedule_immediately=scheduling.schedule_immediately,
        )
        received: list[str] = []
        async with asyncio.timeout(5):
            with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
                await consume_into(received, promise)
            with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
                await promise
    assert received == ["ok"]


async def test_a_subclass_promise_resolves_to_an_instance_of_the_subclass(scheduling):
    class AssistantMessage(Message):
        role: str | None = "assistant"

    async with scheduling.context():
        promise = AssistantMessage.promise(
            generate(["hi"]), schedule_immediately=scheduling.schedule_immediately
        )
        message = await promise

    assert type(message) is AssistantMessage
    assert message.text == "hi"
    assert message.role == "assistant"


async def test_a_resolved_message_as_a_promise_streams_its_text_and_resolves_to_itself():
    message = Message(text="whole text", role="user")
    promise = message.as_promise
    assert isinstance(promise, MessagePromise)
    assert promise.done
    assert await tokens_of(promise) == ["whole text"]
    assert await promise is message


async def test_a_promise_without_a_token_producer_is_already_resolved():
    promise = Message.promise(text="given", role="system")
    assert await tokens_of(promise) == ["given"]
    assert await promise == Message(text="given", role="system")


async def test_tokens_are_replayed_to_every_consumer_and_produced_once(scheduling):
    produced: list[str] = []

    async def producer(_promise: MessagePromise) -> AsyncIterator[str]:
        for token in TOKENS:
            produced.append(token)
            yield token

    async with scheduling.context():
        promise = Message.promise(producer, schedule_immediately=scheduling.schedule_immediately)
        first, second = await asyncio.gather(tokens_of(promise), tokens_of(promise))
        third = await tokens_of(promise)

    assert first == second == third == TOKENS
    assert produced == TOKENS
