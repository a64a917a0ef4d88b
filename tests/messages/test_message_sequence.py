"""MessageSequence and MessageSequencePromise: anything of MessageType, nested to any depth,
flattened in the background into one ordered stream of MessagePromises."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel

from miniagents_lc.messages import (
    Message,
    MessagePromise,
    MessageSequence,
    MessageSequencePromise,
)
from miniagents_lc.promising import NoActiveContextError


async def generate(items: list[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


async def promises_of(sequence: MessageSequencePromise) -> list[MessagePromise]:
    return [promise async for promise in sequence]


async def read_texts_into(texts: list[str | None], sequence: MessageSequencePromise) -> None:
    async for promise in sequence:
        texts.append((await promise).text)


async def texts_of(sequence: MessageSequencePromise) -> list[str | None]:
    return [(await promise).text async for promise in sequence]


def sequence_of(scheduling: Any, *items: Any, **kwargs: Any) -> MessageSequence:
    """A MessageSequence in `scheduling`'s mode with `items` appended (and closed)."""
    sequence = MessageSequence(schedule_immediately=scheduling.schedule_immediately, **kwargs)
    with sequence.append_producer:
        for item in items:
            sequence.append_producer.append(item)
    return sequence


# -- MessageSequencePromise -----------------------------------------------------------------


async def test_acollect_messages_gives_every_message_resolved_in_order(scheduling):
    async with scheduling.context():
        sequence = sequence_of(
            scheduling, "one", Message.promise(generate(["t", "wo"]), role="assistant"), "three"
        ).sequence_promise
        messages = await sequence.acollect_messages()

    assert messages == (
        Message(text="one"),
        Message(text="two", role="assistant"),
        Message(text="three"),
    )


async def test_await_gives_the_tuple_of_the_same_message_promises_that_iteration_gives(
    scheduling,
):
    async with scheduling.context():
        sequence = sequence_of(scheduling, ["a", "b"]).sequence_promise
        iterated = [promise async for promise in sequence]
        whole = await sequence

    assert isinstance(whole, tuple)
    assert all(isinstance(promise, MessagePromise) for promise in whole)
    assert len(whole) == len(iterated) == 2
    assert all(a is b for a, b in zip(whole, iterated, strict=True))


@pytest.mark.parametrize(
    ("separator", "expected_tokens"),
    [
        pytest.param(None, ["a", "b", "\n\n", "c", "\n\n", "d"], id="default"),
        pytest.param(" | ", ["a", "b", " | ", "c", " | ", "d"], id="custom"),
        pytest.param("", ["a", "b", "c", "d"], id="empty"),
    ],
)
async def test_as_single_text_promise_joins_every_messages_tokens_with_the_separator(
    scheduling, separator, expected_tokens
):
    async with scheduling.context():
        sequence = sequence_of(
            scheduling,
            Message.promise(generate(["a", "b"])),
            "c",
            Message.promise(generate(["d"])),
        ).sequence_promise
        single = (
            sequence.as_single_text_promise()
            if separator is None
            else sequence.as_single_text_promise(separator)
        )
        async with asyncio.timeout(5):
            tokens = [token async for token in single]
            message = await single

    assert isinstance(single, MessagePromise)
    assert tokens == expected_tokens
    assert message.text == "".join(expected_tokens)


async def test_as_single_text_promise_streams_before_the_first_message_is_complete(scheduling):
    gate = asyncio.Event()

    async def slow_tokens(_promise: Any) -> AsyncIterator[str]:
        yield "early"
        await gate.wait()
        yield " late"

    async with scheduling.context():
        sequence = sequence_of(scheduling, Message.promise(slow_tokens), "next").sequence_promise
        iterator = aiter(sequence.as_single_text_promise())
        async with asyncio.timeout(5):
            assert await anext(iterator) == "early"
            gate.set()
            assert [token async for token in iterator] == [" late", "\n\n", "next"]


# -- what may be appended -------------------------------------------------------------------


class Note(BaseModel):
    text: str
    author: str


async def test_every_kind_of_message_becomes_a_message(scheduling):
    async with scheduling.context():
        messages = await sequence_of(
            scheduling,
            "plain",
            {"text": "from a dict", "role": "user"},
            Note(text="a model", author="me"),
            Message(text="a message", role="system"),
            Message.promise(generate(["a ", "promise"]), role="assistant"),
            HumanMessage("human"),
            AIMessage("ai"),
            SystemMessage("system"),
            ToolMessage("tool", tool_call_id="call-1"),
        ).sequence_promise.acollect_messages()

    assert all(isinstance(message, Message) for message in messages)
    assert [(message.text, message.role) for message in messages] == [
        ("plain", None),
        ("from a dict", "user"),
        ("a model", None),
        ("a message", "system"),
        ("a promise", "assistant"),
        ("human", "user"),
        ("ai", "assistant"),
        ("system", "system"),
        ("tool", "tool"),
    ]
    assert messages[2].author == "me"  # type: ignore[attr-defined]


async def test_containers_are_flattened_depth_first_in_the_given_order(scheduling):
    async with scheduling.context():
        nested_sequence = MessageSequence.turn_into_sequence_promise(
            ["s1", ["s2"]], schedule_immediately=scheduling.schedule_immediately
        )
        sequence = sequence_of(
            scheduling,
            ["l1", ("t1", "t2"), ["l2"]],
            (text for text in ["g1", "g2"]),
            generate(["a1", generate(["a2", ["a3"]])]),
            nested_sequence,
            [],
            "last",
        )
        texts = await texts_of(sequence.sequence_promise)

    assert texts == ["l1", "t1", "t2", "l2", "g1", "g2", "a1", "a2", "a3", "s1", "s2", "last"]


async def test_the_same_list_twice_is_not_mistaken_for_a_cycle(scheduling):
    shared = ["x", "y"]
    async with scheduling.context():
        texts = await texts_of(sequence_of(scheduling, [shared, [shared]]).sequence_promise)
    assert texts == ["x", "y", "x", "y"]


async def test_an_appended_exception_is_raised_at_its_position(scheduling):
    error = ValueError("raised in the sequence")
    async with scheduling.context():
        sequence = sequence_of(scheduling, "before", [error], "after").sequence_promise
        texts: list[str | None] = []
        async with asyncio.timeout(5):
            for _replay in range(2):
                texts.clear()
                with pytest.raises(ValueError, match="raised in the sequence") as raised:
                    await read_texts_into(texts, sequence)
                assert raised.value is error
                assert texts == ["before"]


async def _never_awaited() -> str:
    return "a coroutine is not a message"


@pytest.mark.parametrize(
    ("make_item", "type_name"),
    [
        pytest.param(lambda: 42, "int", id="int"),
        pytest.param(lambda: 4.2, "float", id="float"),
        pytest.param(lambda: b"raw", "bytes", id="bytes"),
        pytest.param(object, "object", id="object"),
        pytest.param(_never_awaited, "coroutine", id="coroutine"),
    ],
)
@pytest.mark.parametrize("nested", [False, True], ids=["top-level", "nested"])
async def test_an_unsupported_item_raises_type_error_naming_its_type_when_iterated_not_appended(
    scheduling, make_item: Callable[[], Any], type_name: str, nested: bool
):
    item = make_item()
    try:
        async with scheduling.context():
            # Appending never inspects the item: no error here.
            sequence = sequence_of(
                scheduling, "before", [["ok", item]] if nested else item, "after"
            )
            texts: list[str | None] = []
            async with asyncio.timeout(5):
                with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
                    await read_texts_into(texts, sequence.sequence_promise)
        assert texts == (["before", "ok"] if nested else ["before"])
    finally:
        if inspect.iscoroutine(item):
            item.close()


async def test_a_list_containing_itself_raises_a_clear_error_instead_of_hanging(scheduling):
    cyclic: list[Any] = ["a"]
    cyclic.append(["b", cyclic])
    async with scheduling.context():
        sequence = sequence_of(scheduling, cyclic)
        texts: list[str | None] = []
        async with asyncio.timeout(5):
            with pytest.raises((ValueError, TypeError), match="contains itself"):
                await read_texts_into(texts, sequence.sequence_promise)
    assert texts == ["a", "b"]


def _in_list(inner: Any, level: int) -> Any:
    return [f"level {level}", inner]


def _in_tuple(inner: Any, level: int) -> Any:
    return (f"level {level}", inner)


def _in_async_generator(inner: Any, level: int) -> Any:
    return generate([f"level {level}", inner])


def _in_sequence_promise(inner: Any, level: int) -> Any:
    return MessageSequence.turn_into_sequence_promise([f"level {level}", inner])


def _in_a_mix(inner: Any, level: int) -> Any:
    wrappers = [_in_list, _in_async_generator, _in_tuple, _in_sequence_promise]
    return wrappers[level % len(wrappers)](inner, level)


@pytest.mark.parametrize(
    "wrap", [_in_list, _in_tuple, _in_async_generator, _in_sequence_promise, _in_a_mix]
)
async def test_a_thousand_levels_of_nesting_flatten_in_order(scheduling, wrap):
    depth = 1000
    async with scheduling.context():
        item: Any = "innermost"
        for level in range(depth):
            item = wrap(item, level)
        async with asyncio.timeout(30):
            texts = await texts_of(sequence_of(scheduling, item).sequence_promise)

    assert texts == [f"level {level}" for level in reversed(range(depth))] + ["innermost"]


# -- order and scheduling -------------------------------------------------------------------


async def test_order_is_the_given_order_even_when_later_parts_resolve_first(scheduling):
    async with scheduling.context():
        later = Message.promise(generate(["resolved ", "first"]), schedule_immediately=True)
        later_sequence = MessageSequence.turn_into_sequence_promise(
            ["also early"], schedule_immediately=True
        )

        async def slow_earlier_part() -> AsyncIterator[Any]:
            # Yields only once every later part has completely resolved.
            await later
            await later_sequence
            yield "resolved last"

        sequence = sequence_of(
            scheduling, [slow_earlier_part(), later], later_sequence, "plain"
        ).sequence_promise
        async with asyncio.timeout(5):
            texts = await texts_of(sequence)

    assert texts == ["resolved last", "resolved first", "also early", "plain"]


async def test_flattening_is_scheduled_not_done_when_appending(scheduling):
    stepped: list[str] = []

    async def records_first_step() -> AsyncIterator[str]:
        stepped.append("stepped")
        yield "from the generator"

    async with scheduling.context():
        sequence = sequence_of(scheduling, "first", [records_first_step()])
        assert stepped == [], "creating and appending must not iterate anything"

        await asyncio.sleep(0)  # the next task switch
        assert (stepped == ["stepped"]) is scheduling.immediate
        for _ in range(20):  # many more task switches, still no consumer
            await asyncio.sleep(0)
        assert (stepped == ["stepped"]) is scheduling.immediate

        async with asyncio.timeout(5):
            assert await texts_of(sequence.sequence_promise) == ["first", "from the generator"]
    assert stepped == ["stepped"]


async def test_a_message_with_nothing_queued_ahead_takes_its_place_at_once(scheduling):
    async with scheduling.context():
        streamed = Message.promise(generate(["stre", "amed"]))
        sequence = sequence_of(scheduling, "text", Message(text="message"), streamed)
        cursor = sequence.sequence_promise.cursor()

        placed = cursor.read_nowait()
        assert [type(promise) for promise in placed] == [MessagePromise] * 3
        assert placed[2] is streamed, "a MessagePromise is passed on, not copied or awaited"
        assert sequence.sequence_promise.done
        async with asyncio.timeout(5):
            assert await texts_of(sequence.sequence_promise) == ["text", "message", "streamed"]


async def test_messages_appended_behind_a_queued_container_wait_their_turn(scheduling):
    async with scheduling.context():
        sequence = sequence_of(scheduling, "first", generate(["second", "third"]), "fourth")
        cursor = sequence.sequence_promise.cursor()

        assert len(cursor.read_nowait()) == 1, "only the message ahead of the container"
        async with asyncio.timeout(5):
            texts = await texts_of(sequence.sequence_promise)
    assert texts == ["first", "second", "third", "fourth"]


async def test_the_sequence_replays_the_same_message_promises_to_every_consumer(scheduling):
    async with scheduling.context():
        sequence = sequence_of(scheduling, ["a", generate(["b"])]).sequence_promise
        first, second = await asyncio.gather(promises_of(sequence), promises_of(sequence))
    assert len(first) == 2
    assert all(a is b for a, b in zip(first, second, strict=True))


async def test_with_capture_errors_an_exception_while_appending_ends_the_sequence_with_it(
    scheduling,
):
    async with scheduling.context():
        sequence = MessageSequence(
            producer_capture_errors=True, schedule_immediately=scheduling.schedule_immediately
        )
        with sequence.append_producer:
            sequence.append_producer.append("appended")
            raise ValueError("failed while appending")

        texts: list[str | None] = []
        async with asyncio.timeout(5):
            with pytest.raises(ValueError, match="failed while appending"):
                await read_texts_into(texts, sequence.sequence_promise)
    assert texts == ["appended"]


# -- helpers --------------------------------------------------------------------------------


async def test_turn_into_sequence_promise_returns_a_sequence_promise_unchanged(scheduling):
    async with scheduling.context():
        sequence = MessageSequence.turn_into_sequence_promise(
            ["a"], schedule_immediately=scheduling.schedule_immediately
        )
        assert isinstance(sequence, MessageSequencePromise)
        assert MessageSequence.turn_into_sequence_promise(sequence) is sequence
        assert await texts_of(sequence) == ["a"]


async def test_acollect_messages_flattens_and_resolves_anything_of_message_type(scheduling):
    async with scheduling.context():
        messages = await MessageSequence.acollect_messages(
            ["a", [Message.promise(generate(["b"])), generate([{"text": "c"}])], HumanMessage("d")]
        )
    assert [message.text for message in messages] == ["a", "b", "c", "d"]
    assert messages[-1].role == "user"


async def test_creating_a_message_sequence_outside_any_context_raises_no_active_context():
    with pytest.raises(NoActiveContextError, match=r"async with MiniAgents\(\)"):
        MessageSequence()
