"""Hostile inputs: wrong types, huge and deeply nested messages, self-containing lists, use
outside any context. Each is refused with a clear error, or works."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pydantic
import pytest
from langchain_core.messages import ChatMessage

from miniagents_lc import (
    InteractionContext,
    Message,
    MessagePromise,
    MiniAgent,
    MiniAgentChatModel,
    MiniAgents,
    NoActiveContextError,
    miniagent,
)
from miniagents_lc.testing import settle


async def _never_awaited() -> None:
    """Replied as a coroutine object by mistake."""


def _ints() -> Iterator[int]:
    yield from range(3)


# Each: a factory of the hostile reply, and the type name the error must give.
HOSTILE_REPLIES: dict[str, tuple[Callable[[], Any], str]] = {
    "int": (lambda: 42, "int"),
    "object": (object, "object"),
    "bytes": (lambda: b"raw bytes", "bytes"),
    "coroutine": (_never_awaited, "coroutine"),
    "sync-generator-of-ints": (_ints, "int"),
}


@miniagent
async def sibling(ctx: InteractionContext) -> None:
    await settle()  # still working while the hostile reply fails
    ctx.reply(["sibling: one", "sibling: two"])


@pytest.mark.parametrize(
    ("make", "type_name"), list(HOSTILE_REPLIES.values()), ids=list(HOSTILE_REPLIES)
)
async def test_hostile_reply_is_a_type_error_and_sibling_completes(
    make: Callable[[], Any], type_name: str
) -> None:
    value = make()

    @miniagent
    async def hostile(ctx: InteractionContext) -> None:
        ctx.reply("hostile: before")
        ctx.reply(value)

    try:
        async with MiniAgents():
            hostile_replies = hostile.trigger()
            sibling_replies = sibling.trigger()
            with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
                await hostile_replies.acollect_messages()
            sibling_messages = await sibling_replies.acollect_messages()
    finally:
        if asyncio.iscoroutine(value):
            value.close()

    assert [str(message) for message in sibling_messages] == ["sibling: one", "sibling: two"]


TEN_MB = 10 * 1024 * 1024


def _chunks_of(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]


@pytest.mark.parametrize("token_size", [TEN_MB, 1024], ids=["one-token", "1KB-tokens"])
async def test_ten_megabyte_message_streams_and_resolves_intact(token_size: int) -> None:
    text = "".join(chr(ord("a") + index % 26) for index in range(1024)) * (TEN_MB // 1024)
    tokens = _chunks_of(text, token_size)

    async def produce() -> AsyncIterator[str]:
        for token in tokens:
            yield token
            await asyncio.sleep(0)

    @miniagent
    async def big(ctx: InteractionContext) -> None:
        ctx.reply(Message.promise(produce()))

    async with MiniAgents():
        [promise] = [promise async for promise in big.trigger()]
        streamed = [token async for token in promise]
        message = await promise

    assert len(streamed) == len(tokens)
    assert "".join(streamed) == text
    assert message.text == text


DEPTH = 1000


def nested_lists(depth: int) -> list[Any]:
    value: list[Any] = ["deepest"]
    for _ in range(depth - 1):
        value = [value]
    return ["top", value, "after"]


async def test_lists_nested_a_thousand_levels_deep_flatten() -> None:
    @miniagent
    async def deep(ctx: InteractionContext) -> None:
        ctx.reply(nested_lists(DEPTH))

    async with MiniAgents():
        messages = await deep.trigger().acollect_messages()

    assert [str(message) for message in messages] == ["top", "deepest", "after"]


async def test_agents_nested_a_thousand_levels_deep_reply() -> None:
    @miniagent
    async def level(ctx: InteractionContext, depth: int) -> None:
        if depth == DEPTH:
            ctx.reply("deepest")
        else:
            ctx.reply(level.trigger(depth=depth + 1))

    async with MiniAgents():
        messages = await level.trigger(depth=1).acollect_messages()

    assert [str(message) for message in messages] == ["deepest"]


async def test_list_containing_itself_is_a_clear_error() -> None:
    looped: list[Any] = ["first"]
    looped.append(looped)

    @miniagent
    async def looping(ctx: InteractionContext) -> None:
        ctx.reply(looped)

    async with MiniAgents():
        with pytest.raises(ValueError, match="contains itself"):
            await asyncio.wait_for(looping.trigger().acollect_messages(), timeout=5)


@pytest.mark.parametrize(
    ("piece", "type_name"),
    [(42, "int"), (b"bytes", "bytes"), (None, "NoneType"), (Message(text="m"), "Message")],
    ids=["int", "bytes", "None", "Message"],
)
async def test_token_producer_yielding_non_str_is_a_type_error(piece: Any, type_name: str) -> None:
    async def produce() -> AsyncIterator[Any]:
        yield "fine "
        yield piece

    async with MiniAgents():
        promise = MessagePromise(producer=produce())
        with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
            await promise
        with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
            [token async for token in promise]


@miniagent
async def echo(ctx: InteractionContext) -> None:
    ctx.reply(ctx.message_promises)


async def _tokens(_promise: object) -> AsyncIterator[str]:
    yield "token"


OUTSIDE_CONTEXT: dict[str, Callable[[], object]] = {
    "trigger": lambda: echo.trigger("hi"),
    "initiate_call": lambda: echo.initiate_call(),
    "MessagePromise": lambda: MessagePromise(producer=_tokens),
    "Message.promise": lambda: Message.promise(_tokens),
}


@pytest.mark.parametrize("use", list(OUTSIDE_CONTEXT.values()), ids=list(OUTSIDE_CONTEXT))
async def test_engine_use_outside_a_context_names_the_fix(use: Callable[[], object]) -> None:
    with pytest.raises(NoActiveContextError, match=r"async with MiniAgents\(\)"):
        use()


def _chat_model(agent: MiniAgent) -> MiniAgentChatModel:
    return MiniAgentChatModel(agent=agent)


async def _ainvoke(model: MiniAgentChatModel, messages: list[Any]) -> object:
    return await model.ainvoke(messages)


async def _astream(model: MiniAgentChatModel, messages: list[Any]) -> object:
    return [chunk async for chunk in model.astream(messages)]


@pytest.mark.parametrize("call", [_ainvoke, _astream], ids=["ainvoke", "astream"])
async def test_chat_model_refuses_unknown_role_by_name(call: Any) -> None:
    model = _chat_model(echo)

    with pytest.raises(ValueError, match="'narrator'"):
        await call(model, [ChatMessage(role="narrator", content="Once upon a time")])


def _self_containing_dict() -> dict[str, object]:
    value: dict[str, object] = {"text": "x"}
    value["self"] = value
    return value


def _self_containing_list() -> list[object]:
    value: list[object] = ["a"]
    value.append(value)
    return value


def _deeply_nested_list() -> list[object]:
    value: list[object] = ["x"]
    for _ in range(2_000):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("make_field", "expected"),
    [
        (_self_containing_dict, "contains itself"),
        (_self_containing_list, "contains itself"),
        (_deeply_nested_list, "nested too deeply"),
    ],
    ids=["dict-containing-itself", "list-containing-itself", "2000-levels-deep"],
)
def test_a_message_field_that_cannot_be_frozen_is_a_clear_validation_error(
    make_field: Callable[[], object], expected: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=expected):
        Message(text="x", field=make_field())
