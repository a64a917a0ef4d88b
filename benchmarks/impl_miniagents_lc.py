"""miniagents_lc: MessagePromises, nested agents / MessageSequences, and `agent.astream()`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from benchmarks.workloads import (
    TOKEN,
    AllocationProbe,
    LatencyClock,
    Measurement,
    Result,
    Sizes,
    check_count,
    now,
)
from benchmarks.workloads import (
    tokens as _tokens,
)
from miniagents_lc import (
    InteractionContext,
    Message,
    MessagePromise,
    MessageSequence,
    MessageSequencePromise,
    MiniAgents,
    miniagent,
)


async def _read_tokens(sequence: MessageSequencePromise) -> tuple[int, int]:
    """Messages and tokens of a sequence, read token by token with `async for`."""
    messages = tokens = 0
    async for message_promise in sequence:
        messages += 1
        async for _token in message_promise:
            tokens += 1
    return messages, tokens


async def _read_batches(sequence: MessageSequencePromise) -> tuple[int, int]:
    """The same, with the cursor's batch reads (`read()` returns everything buffered)."""
    messages = tokens = 0
    async for message_promise in sequence:
        messages += 1
        cursor = message_promise.cursor()
        while batch := await cursor.read():
            tokens += len(batch)
    return messages, tokens


# -- (a) one stream -------------------------------------------------------------------------


def stream(sizes: Sizes) -> Result:
    async def main() -> Result:
        started = now()
        count = 0
        async with MiniAgents():
            promise = Message.promise(_tokens(sizes.stream_tokens))
            async for _token in promise:
                count += 1
        elapsed = now() - started
        check_count("tokens", count, sizes.stream_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


def stream_batches(sizes: Sizes) -> Result:
    async def main() -> Result:
        started = now()
        count = 0
        async with MiniAgents():
            cursor = Message.promise(_tokens(sizes.stream_tokens)).cursor()
            while batch := await cursor.read():
                count += len(batch)
        elapsed = now() - started
        check_count("tokens", count, sizes.stream_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


# -- (b) the tree ---------------------------------------------------------------------------


async def _yielding_tokens(count: int) -> AsyncIterator[str]:
    for _ in range(count):
        await asyncio.sleep(0)
        yield TOKEN


@miniagent
async def tree_node(
    ctx: InteractionContext,
    level: int,
    depth: int,
    fan_out: int,
    leaf: int,
    yielding: bool = False,
) -> None:
    """A leaf replies one streamed message; an inner node replies its children's replies."""
    if level == depth:
        ctx.reply(Message.promise((_yielding_tokens if yielding else _tokens)(leaf)))
        return
    for _ in range(fan_out):
        ctx.reply(
            tree_node.trigger(
                level=level + 1, depth=depth, fan_out=fan_out, leaf=leaf, yielding=yielding
            )
        )


def _tree_sequence(level: int, sizes: Sizes, leaf_tokens: int) -> MessageSequencePromise:
    """The same tree as nested MessageSequences, built synchronously."""
    sequence = MessageSequence()
    with sequence.append_producer as producer:
        if level == sizes.tree_depth:
            producer.append(Message.promise(_tokens(leaf_tokens)))
        else:
            for _ in range(sizes.tree_fan_out):
                producer.append(_tree_sequence(level + 1, sizes, leaf_tokens))
    return sequence.sequence_promise


def _tree_kwargs(sizes: Sizes, leaf_tokens: int) -> dict[str, Any]:
    return {
        "level": 0,
        "depth": sizes.tree_depth,
        "fan_out": sizes.tree_fan_out,
        "leaf": leaf_tokens,
    }


def _tree(sizes: Sizes, *, agents: bool, batches: bool) -> Result:
    async def main() -> Result:
        started = now()
        async with MiniAgents():
            if agents:
                top = tree_node.trigger(**_tree_kwargs(sizes, sizes.tree_leaf_tokens))
            else:
                top = _tree_sequence(0, sizes, sizes.tree_leaf_tokens)
            read = _read_batches if batches else _read_tokens
            messages, tokens = await read(top)
        elapsed = now() - started
        check_count("messages", messages, sizes.tree_leaves)
        check_count("tokens", tokens, sizes.tree_leaves * sizes.tree_leaf_tokens)
        return {"wall_s": elapsed, "tokens": tokens}

    return asyncio.run(main())


def tree(sizes: Sizes) -> Result:
    return _tree(sizes, agents=True, batches=False)


def tree_sequences(sizes: Sizes) -> Result:
    return _tree(sizes, agents=False, batches=False)


def tree_batches(sizes: Sizes) -> Result:
    return _tree(sizes, agents=True, batches=True)


# -- (c) the tree through .astream() ----------------------------------------------------------


def _astream(sizes: Sizes, *, yielding: bool) -> Result:
    async def main() -> Result:
        started = now()
        chunks = chars = 0
        kwargs: dict[str, Any] = _tree_kwargs(sizes, sizes.astream_leaf_tokens)
        kwargs["yielding"] = yielding
        async for chunk in tree_node.astream("go", **kwargs):
            chunks += 1
            chars += len(chunk.content)
        elapsed = now() - started
        separators = (sizes.tree_leaves - 1) * len("\n\n")
        expected = sizes.tree_leaves * sizes.astream_leaf_tokens * len(TOKEN) + separators
        check_count("chars", chars, expected)
        tokens = sizes.tree_leaves * sizes.astream_leaf_tokens
        return {"wall_s": elapsed, "tokens": tokens, "chunks": chunks}

    return asyncio.run(main())


def astream(sizes: Sizes) -> Result:
    return _astream(sizes, yielding=False)


def astream_yielding(sizes: Sizes) -> Result:
    return _astream(sizes, yielding=True)


# -- (d) latency ------------------------------------------------------------------------------


async def _delayed_tokens(sizes: Sizes) -> AsyncIterator[str]:
    await asyncio.sleep(sizes.latency_first_delay)
    for index in range(sizes.latency_tokens):
        if index:
            await asyncio.sleep(sizes.latency_token_gap)
        yield TOKEN


@miniagent
async def latency_node(ctx: InteractionContext, level: int, sizes: Sizes) -> None:
    if level == sizes.latency_depth:
        ctx.reply(Message.promise(_delayed_tokens(sizes)))
        return
    for _ in range(sizes.latency_fan_out):
        ctx.reply(latency_node.trigger(level=level + 1, sizes=sizes))


def latency(sizes: Sizes) -> Result:
    """Through `.astream()`, the way a LangChain user reads the tree."""

    async def main() -> Result:
        clock = LatencyClock()
        clock.start()
        async for chunk in latency_node.astream("go", level=0, sizes=sizes):
            content = chunk.content
            if content and content != "\n\n":
                assert isinstance(content, str)
                clock.token(content.count(TOKEN))
        result = clock.result(sizes.latency_leaves * sizes.latency_tokens)
        result["wall_s"] = now() - clock.started
        return result

    return asyncio.run(main())


def latency_engine(sizes: Sizes) -> Result:
    """Through the engine: the top reply sequence and each MessagePromise, token by token."""

    async def main() -> Result:
        clock = LatencyClock()
        clock.start()
        async with MiniAgents():
            async for message_promise in latency_node.trigger(level=0, sizes=sizes):
                async for _token in message_promise:
                    clock.token()
            result = clock.result(sizes.latency_leaves * sizes.latency_tokens)
        result["wall_s"] = now() - clock.started
        return result

    return asyncio.run(main())


# -- (e) load ---------------------------------------------------------------------------------


@miniagent
async def load_call(ctx: InteractionContext, tokens: int) -> None:
    ctx.reply(Message.promise(_yielding_tokens(tokens)))


def load(sizes: Sizes) -> Result:
    async def main() -> Result:
        started = now()
        async with MiniAgents():
            replies = [load_call.trigger(tokens=sizes.load_tokens) for _ in range(sizes.load_calls)]
            count = 0
            for reply in replies:
                _messages, tokens = await _read_tokens(reply)
                count += tokens
        elapsed = now() - started
        check_count("tokens", count, sizes.load_calls * sizes.load_tokens)
        return {"wall_s": elapsed, "tokens": count}

    return asyncio.run(main())


# -- (f) memory -------------------------------------------------------------------------------


def _token_producer(_promise: Any) -> AsyncIterator[str]:
    return _tokens(1)


@miniagent
async def one_message(ctx: InteractionContext) -> None:
    ctx.reply(Message.promise(_tokens(1)))


def memory(sizes: Sizes) -> Result:
    count = sizes.memory_objects

    async def main() -> Result:
        async with MiniAgents():
            # An idle MessagePromise: created, nothing produced or consumed yet (on demand, so
            # no task; the producer is a shared function, so no generator is held either).
            with AllocationProbe() as probe:
                idle = [
                    Message.promise(_token_producer, schedule_immediately=False)
                    for _ in range(count)
                ]
                idle_bytes, _ = probe.measure()
            del idle

            # An idle MessagePromise scheduled at once (the default): its producer task is
            # created but has not run yet.
            with AllocationProbe() as probe:
                scheduled = [Message.promise(_token_producer) for _ in range(count)]
                scheduled_bytes, _ = probe.measure()
                await asyncio.gather(*(promise.acollect() for promise in scheduled))
            del scheduled

            # Agent calls: all triggered at once, replies read, reply promises kept.
            with AllocationProbe() as probe:
                replies = [one_message.trigger() for _ in range(count)]
                for reply in replies:
                    await _read_tokens(reply)
                await asyncio.sleep(0)
                call_retained, call_peak = probe.measure()
            del replies

            # The replay buffer: bytes per buffered token (the shared token, then unique ones).
            buffer_shared = await _buffer_bytes(sizes.memory_buffer_tokens, unique=False)
            buffer_unique = await _buffer_bytes(sizes.memory_buffer_tokens, unique=True)
        return {
            "idle_stream_bytes": idle_bytes / count,
            "scheduled_stream_bytes": scheduled_bytes / count,
            "call_peak_bytes": call_peak / count,
            "call_retained_bytes": call_retained / count,
            "buffer_bytes_per_token": buffer_shared,
            "buffer_bytes_per_unique_token": buffer_unique,
        }

    return asyncio.run(main())


async def _unique_tokens(count: int) -> AsyncIterator[str]:
    for index in range(count):
        yield f"t{index:06d} "


async def _buffer_bytes(count: int, *, unique: bool) -> float:
    with AllocationProbe() as probe:
        promise: MessagePromise = Message.promise(
            _unique_tokens(count) if unique else _tokens(count)
        )
        cursor = promise.cursor()
        while await cursor.read():
            pass
        del cursor
        retained, _ = probe.measure()
    del promise
    return retained / count


MEASUREMENTS: dict[str, Measurement] = {
    "stream": stream,
    "stream/read": stream_batches,
    "tree": tree,
    "tree/sequences": tree_sequences,
    "tree/read": tree_batches,
    "astream": astream,
    "astream/yielding": astream_yielding,
    "latency": latency,
    "latency/engine": latency_engine,
    "load": load,
    "memory": memory,
}
