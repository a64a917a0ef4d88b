"""MiniAgents 0.0.35 (PyPI `miniagents`), the library miniagents_lc grew from.

Tokens are plain `str`s yielded by a `message_token_streamer` (MiniAgents' own `TextToken`
objects would cost a pydantic model per token: this is its cheapest path).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from miniagents import (
    InteractionContext,
    MessagePromise,
    MessageSequence,
    MessageSequencePromise,
    MiniAgents,
    TextMessage,
    miniagent,
)

from benchmarks.workloads import (
    TOKEN,
    AllocationProbe,
    LatencyClock,
    Measurement,
    Result,
    Sizes,
    bytes_per_call,
    bytes_per_object,
    check_count,
    measure_chunks,
    measure_latency,
    measure_tokens,
)


def _streamer(count: int) -> Any:
    async def stream(_fields: dict[str, Any]) -> AsyncIterator[str]:
        for _ in range(count):
            yield TOKEN

    return stream


def _message(count: int, *, start_soon: bool = True) -> MessagePromise:
    return TextMessage.promise(start_soon=start_soon, message_token_streamer=_streamer(count))


async def _read_tokens(sequence: MessageSequencePromise) -> tuple[int, int]:
    messages = tokens = 0
    async for message_promise in sequence:
        messages += 1
        async for _token in message_promise:
            tokens += 1
    return messages, tokens


# -- (a) one stream -------------------------------------------------------------------------


def stream(sizes: Sizes) -> Result:
    async def count_tokens() -> int:
        count = 0
        async with MiniAgents():
            async for _token in _message(sizes.stream_tokens):
                count += 1
        return count

    return measure_tokens(count_tokens, sizes.stream_tokens)


def _count_tree_tokens(sizes: Sizes, make_top: Any) -> Result:
    """(b): the tree `make_top()` builds inside a context, read token by token."""

    async def count_tokens() -> int:
        async with MiniAgents():
            messages, tokens = await _read_tokens(make_top())
        check_count("messages", messages, sizes.tree_leaves)
        return int(tokens)

    return measure_tokens(count_tokens, sizes.tree_leaves * sizes.tree_leaf_tokens)


# -- (b) the tree ---------------------------------------------------------------------------


@miniagent  # type: ignore[untyped-decorator]
async def tree_node(
    ctx: InteractionContext, level: int, depth: int, fan_out: int, leaf: int
) -> None:
    if level == depth:
        ctx.reply(_message(leaf))
        return
    for _ in range(fan_out):
        ctx.reply(tree_node.trigger(level=level + 1, depth=depth, fan_out=fan_out, leaf=leaf))


def _tree_kwargs(sizes: Sizes, leaf_tokens: int) -> dict[str, int]:
    return {
        "level": 0,
        "depth": sizes.tree_depth,
        "fan_out": sizes.tree_fan_out,
        "leaf": leaf_tokens,
    }


def tree(sizes: Sizes) -> Result:
    return _count_tree_tokens(
        sizes, lambda: tree_node.trigger(**_tree_kwargs(sizes, sizes.tree_leaf_tokens))
    )


def _tree_sequence(level: int, sizes: Sizes, leaf_tokens: int) -> MessageSequencePromise:
    sequence = MessageSequence()
    appender = sequence.message_appender
    assert appender is not None
    with appender:
        if level == sizes.tree_depth:
            appender.append(_message(leaf_tokens))
        else:
            for _ in range(sizes.tree_fan_out):
                appender.append(_tree_sequence(level + 1, sizes, leaf_tokens))
    return sequence.sequence_promise


def tree_sequences(sizes: Sizes) -> Result:
    return _count_tree_tokens(sizes, lambda: _tree_sequence(0, sizes, sizes.tree_leaf_tokens))


# -- (c) the tree, tokens turned into AIMessageChunks by the consumer -------------------------


def astream(sizes: Sizes) -> Result:
    from langchain_core.messages import AIMessageChunk

    async def chunks() -> AsyncIterator[AIMessageChunk]:
        async with MiniAgents():
            top = tree_node.trigger(**_tree_kwargs(sizes, sizes.astream_leaf_tokens))
            async for message_promise in top:
                async for token in message_promise:
                    yield AIMessageChunk(content=token, id="run")

    return measure_chunks(chunks, sizes)


# -- (d) latency ------------------------------------------------------------------------------


def _delayed_streamer(first_delay: float, tokens: int, gap: float) -> Any:
    async def stream(_fields: dict[str, Any]) -> AsyncIterator[str]:
        await asyncio.sleep(first_delay)
        for index in range(tokens):
            if index:
                await asyncio.sleep(gap)
            yield TOKEN

    return stream


@miniagent  # type: ignore[untyped-decorator]
async def latency_node(
    ctx: InteractionContext,
    level: int,
    depth: int,
    fan_out: int,
    first_delay: float,
    tokens: int,
    gap: float,
) -> None:
    """MiniAgents freezes agent kwargs, so the sizes travel as scalars."""
    if level == depth:
        streamer = _delayed_streamer(first_delay, tokens, gap)
        ctx.reply(TextMessage.promise(message_token_streamer=streamer))
        return
    for _ in range(fan_out):
        ctx.reply(
            latency_node.trigger(
                level=level + 1,
                depth=depth,
                fan_out=fan_out,
                first_delay=first_delay,
                tokens=tokens,
                gap=gap,
            )
        )


def latency(sizes: Sizes) -> Result:
    async def read(clock: LatencyClock) -> None:
        async with MiniAgents():
            top = latency_node.trigger(
                level=0,
                fan_out=sizes.latency_fan_out,
                depth=sizes.latency_depth,
                first_delay=sizes.latency_first_delay,
                tokens=sizes.latency_tokens,
                gap=sizes.latency_token_gap,
            )
            async for message_promise in top:
                async for _token in message_promise:
                    clock.token()

    return measure_latency(read, sizes)


# -- (e) load ---------------------------------------------------------------------------------


def _yielding_streamer(count: int) -> Any:
    async def stream(_fields: dict[str, Any]) -> AsyncIterator[str]:
        for _ in range(count):
            await asyncio.sleep(0)
            yield TOKEN

    return stream


@miniagent  # type: ignore[untyped-decorator]
async def load_call(ctx: InteractionContext, tokens: int) -> None:
    ctx.reply(TextMessage.promise(message_token_streamer=_yielding_streamer(tokens)))


def load(sizes: Sizes) -> Result:
    async def count_tokens() -> int:
        count = 0
        async with MiniAgents():
            replies = [load_call.trigger(tokens=sizes.load_tokens) for _ in range(sizes.load_calls)]
            for reply in replies:
                _messages, tokens = await _read_tokens(reply)
                count += tokens
        return count

    return measure_tokens(count_tokens, sizes.load_calls * sizes.load_tokens)


# -- (f) memory -------------------------------------------------------------------------------


@miniagent  # type: ignore[untyped-decorator]
async def one_message(ctx: InteractionContext) -> None:
    ctx.reply(_message(1))


def memory(sizes: Sizes) -> Result:
    count = sizes.memory_objects
    shared_streamer = _streamer(1)

    async def calls(count: int) -> list[MessageSequencePromise]:
        replies = [one_message.trigger() for _ in range(count)]
        for reply in replies:
            await _read_tokens(reply)
        return replies

    async def main() -> Result:
        async with MiniAgents():
            idle = bytes_per_object(
                count,
                lambda: TextMessage.promise(
                    start_soon=False, message_token_streamer=shared_streamer
                ),
            )
            scheduled = bytes_per_object(
                count, lambda: TextMessage.promise(message_token_streamer=shared_streamer)
            )
            await asyncio.sleep(0)
            call_retained, call_peak = await bytes_per_call(count, calls)
            buffer_shared = await _buffer_bytes(sizes.memory_buffer_tokens, unique=False)
            buffer_unique = await _buffer_bytes(sizes.memory_buffer_tokens, unique=True)
        return {
            "idle_stream_bytes": idle,
            "scheduled_stream_bytes": scheduled,
            "call_peak_bytes": call_peak,
            "call_retained_bytes": call_retained,
            "buffer_bytes_per_token": buffer_shared,
            "buffer_bytes_per_unique_token": buffer_unique,
        }

    return asyncio.run(main())


def _unique_streamer(count: int) -> Any:
    async def stream(_fields: dict[str, Any]) -> AsyncIterator[str]:
        for index in range(count):
            yield f"t{index:06d} "

    return stream


async def _buffer_bytes(count: int, *, unique: bool) -> float:
    with AllocationProbe() as probe:
        streamer = _unique_streamer(count) if unique else _streamer(count)
        promise = TextMessage.promise(message_token_streamer=streamer)
        async for _token in promise:
            pass
        retained, _ = probe.measure()
    del promise
    return retained / count


MEASUREMENTS: dict[str, Measurement] = {
    "stream": stream,
    "tree": tree,
    "tree/sequences": tree_sequences,
    "astream": astream,
    "latency": latency,
    "load": load,
    "memory": memory,
}
