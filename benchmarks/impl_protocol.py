"""Workload (g): the agent tree read through the v3 streaming protocol, beside LangGraph's own.

miniagents_lc reads the tree of workload (c) (depth `tree_depth`, fan-out `tree_fan_out`,
`astream_leaf_tokens` tokens per leaf) three ways: `astream()` (the reference), the protocol's
`run.messages` projection, and its raw events. LangGraph streams a graph of the same shape
(nested subgraphs whose leaves call a chat model streaming the same tokens) through its own
`astream_events(version="v3")`. The latency row times the first event against the first
token on the tree of workload (d).
"""

from __future__ import annotations

import asyncio
import operator
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from benchmarks.impl_miniagents_lc import _tree_kwargs, tree_node
from benchmarks.workloads import TOKEN, Measurement, Result, Sizes, check_count, now
from miniagents_lc import InteractionContext, Message, miniagent
from miniagents_lc.protocol import AgentRunStream

if TYPE_CHECKING:
    from benchmarks.runner import Row, Spec, Target

V3 = "protocol_v3"
"""The implementation key of these measurements in the runner's plan."""


def _expected_chars(sizes: Sizes) -> int:
    return sizes.tree_leaves * sizes.astream_leaf_tokens * len(TOKEN)


def _throughput(started: float, chars: int, sizes: Sizes, **extra: float) -> Result:
    elapsed = now() - started
    check_count("chars", chars, _expected_chars(sizes))
    return {"wall_s": elapsed, "tokens": sizes.tree_leaves * sizes.astream_leaf_tokens, **extra}


def _kwargs(sizes: Sizes, yielding: bool) -> dict[str, Any]:
    kwargs = _tree_kwargs(sizes, sizes.astream_leaf_tokens)
    kwargs["yielding"] = yielding
    return kwargs


def agent_astream(sizes: Sizes, yielding: bool = False) -> Result:
    """The reference: the tree's text through `astream()`."""

    async def main() -> Result:
        started = now()
        chars = chunks = 0
        async for chunk in tree_node.astream("go", **_kwargs(sizes, yielding)):
            chunks += 1
            chars += len(chunk.content)
        separators = (sizes.tree_leaves - 1) * len("\n\n")
        return _throughput(started, chars - separators, sizes, chunks=chunks)

    return asyncio.run(main())


async def _read_messages(run: AgentRunStream) -> tuple[int, int]:
    """Every message of `run.messages`, its text delta by delta: (chars, deltas)."""
    chars = deltas = 0
    async for stream in run.messages:
        async for text in stream.text:
            deltas += 1
            chars += len(text)
    return chars, deltas


async def _read_raw_events(run: AgentRunStream) -> tuple[int, int]:
    """Every raw event of the run, the text of its text deltas counted: (chars, events)."""
    chars = events = 0
    async for event in run:
        events += 1
        data = event["params"]["data"]
        if event["method"] == "messages" and data["event"] == "content-block-delta":
            chars += len(data["delta"]["text"])
    return chars, events


def _v3(
    read: Callable[[AgentRunStream], Awaitable[tuple[int, int]]], yielding: bool
) -> Measurement:
    def measure(sizes: Sizes) -> Result:
        async def main() -> Result:
            started = now()
            kwargs = _kwargs(sizes, yielding)
            async with await tree_node.astream_events("go", version="v3", **kwargs) as run:
                chars, items = await read(run)
            return _throughput(started, chars, sizes, chunks=items)

        return asyncio.run(main())

    return measure


# -- latency: the first event after the first token -------------------------------------------


async def _timed_tokens(sizes: Sizes, first_token_at: list[float]) -> AsyncIterator[str]:
    await asyncio.sleep(sizes.latency_first_delay)
    for index in range(sizes.latency_tokens):
        if index:
            await asyncio.sleep(sizes.latency_token_gap)
        if not first_token_at:
            first_token_at.append(now())
        yield TOKEN


@miniagent
async def timed_node(
    ctx: InteractionContext, level: int, sizes: Sizes, first_token_at: list[float]
) -> None:
    if level == sizes.latency_depth:
        ctx.reply(Message.promise(_timed_tokens(sizes, first_token_at)))
        return
    for _ in range(sizes.latency_fan_out):
        ctx.reply(timed_node.trigger(level=level + 1, sizes=sizes, first_token_at=first_token_at))


def agent_first_event(sizes: Sizes) -> Result:
    """How long after the first token exists its text-delta event reaches the consumer."""

    async def main() -> Result:
        first_token_at: list[float] = []
        first_event_at = 0.0
        started = now()
        kwargs: dict[str, Any] = {"level": 0, "sizes": sizes, "first_token_at": first_token_at}
        async with await timed_node.astream_events("go", version="v3", **kwargs) as run:
            async for event in run:
                data = event["params"]["data"]
                if (
                    not first_event_at
                    and event["method"] == "messages"
                    and data["event"] == "content-block-delta"
                ):
                    first_event_at = now()
        return {
            "wall_s": now() - started,
            "first_event_after_token_s": first_event_at - first_token_at[0],
        }

    return asyncio.run(main())


# -- LangGraph's own v3 stream over a graph of the same shape ----------------------------------


class _TokenModel(BaseChatModel):
    """A chat model streaming `count` tokens, as fast as it is read."""

    count: int

    @property
    def _llm_type(self) -> str:
        return "tokens"

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        for _ in range(self.count):
            yield ChatGenerationChunk(message=AIMessageChunk(content=TOKEN))

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        message = AIMessage(content=TOKEN * self.count)
        return ChatResult(generations=[ChatGeneration(message=message)])


class _State(TypedDict):
    texts: Annotated[list[str], operator.add]


def _graph(level: int, sizes: Sizes, model: _TokenModel) -> Any:
    from langgraph.graph import START, StateGraph

    builder = StateGraph(_State)
    for index in range(sizes.tree_fan_out):
        name = f"n{level}_{index}"
        if level + 1 == sizes.tree_depth:

            async def leaf(state: _State) -> dict[str, list[str]]:
                reply = await model.ainvoke("go")
                return {"texts": [str(reply.content)]}

            builder.add_node(name, leaf)
        else:
            builder.add_node(name, _graph(level + 1, sizes, model))
        builder.add_edge(START, name)
    return builder.compile()


def langgraph_raw_events(sizes: Sizes) -> Result:
    """LangGraph's raw v3 events; the text of its text deltas is counted."""

    async def main() -> Result:
        graph = _graph(0, sizes, _TokenModel(count=sizes.astream_leaf_tokens))
        started = now()
        chars = events = 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # announced as beta
            run = await graph.astream_events({"texts": []}, version="v3")
        async with run:
            async for event in run:
                events += 1
                if event["method"] != "messages":
                    continue
                payload = event["params"]["data"][0]
                if isinstance(payload, dict) and payload.get("event") == "content-block-delta":
                    chars += len(payload["delta"]["text"])
        return _throughput(started, chars, sizes, chunks=events)

    return asyncio.run(main())


MEASUREMENTS: dict[str, Measurement] = {
    "events/astream": agent_astream,
    "events/messages": _v3(_read_messages, yielding=False),
    "events/raw": _v3(_read_raw_events, yielding=False),
    "events/astream/yielding": lambda sizes: agent_astream(sizes, yielding=True),
    "events/messages/yielding": _v3(_read_messages, yielding=True),
    "events/raw/yielding": _v3(_read_raw_events, yielding=True),
    "events/first": agent_first_event,
    "events/langgraph": langgraph_raw_events,
}


# -- registration in the runner: plan rows, table, targets --------------------------------


def plan(spec: type[Spec]) -> tuple[Spec, ...]:
    """The rows of workload (g)."""
    return (
        spec("events", V3, "events/astream", "miniagents_lc: agent.astream() (reference)"),
        spec("events", V3, "events/messages", "miniagents_lc v3: run.messages, text deltas"),
        spec("events", V3, "events/raw", "miniagents_lc v3: raw events"),
        spec("events", V3, "events/langgraph", "LangGraph v3: raw events, same-shape graph"),
        spec("events", V3, "events/first", "miniagents_lc v3: first event, latency tree"),
        spec(
            "events",
            V3,
            "events/astream/yielding",
            "miniagents_lc: astream(), leaves yield (reference)",
            "variant: `await asyncio.sleep(0)` before each leaf token, so every token is "
            "an event of its own; the yielding rows compare with this one",
        ),
        spec(
            "events", V3, "events/messages/yielding", "miniagents_lc v3: run.messages, leaves yield"
        ),
        spec("events", V3, "events/raw/yielding", "miniagents_lc v3: raw events, leaves yield"),
    )


def table(rows: list[Row]) -> str:
    """Tokens/s of each way to read the tree, as a share of `astream()`'s; the latency."""
    from benchmarks.runner import _fmt_time, _metric, _rows_of, _table

    lines = []
    for row in _rows_of(rows, "events"):
        yielding = row.spec.measurement.endswith("/yielding")
        reference = _tokens_per_s(rows, "events/astream" + ("/yielding" if yielding else ""))
        wall = _metric(row, "wall_s")
        tokens = _metric(row, "tokens")
        rate = tokens / wall if wall and tokens else None
        first = _metric(row, "first_event_after_token_s")
        chunks = _metric(row, "chunks")
        lines.append(
            [
                row.spec.label,
                _fmt_time(wall) if row.runs else "ERROR",
                f"{rate:,.0f}" if rate else "-",
                _share(rate / reference) if rate and reference else "-",
                f"{chunks:,.0f}" if chunks is not None else "-",
                f"{first * 1000:.2f} ms" if first is not None else "-",
            ]
        )
    header = ["implementation", "wall", "tokens/s", "of its astream()", "items", "first event"]
    return _table(header, lines)


def _share(share: float) -> str:
    return f"{share:.0%}" if share >= 0.01 else f"{share:.2%}"


def _tokens_per_s(rows: list[Row], measurement: str) -> float | None:
    from benchmarks.runner import _metric

    row = next((r for r in rows if r.spec.measurement == measurement), None)
    wall, tokens = _metric(row, "wall_s"), _metric(row, "tokens")
    return tokens / wall if wall and tokens else None


def targets(rows: list[Row], target: type[Target]) -> list[Target]:
    """(g) run.messages and raw events >= 25% of astream()'s tokens/s; first event <= 3 ms."""
    from benchmarks.runner import _metric

    found: list[Target] = []
    reference = _tokens_per_s(rows, "events/astream")
    for measurement, name in (
        ("events/messages", "(g) v3 run.messages >= 25% of astream() tokens/s"),
        ("events/raw", "(g) v3 raw events >= 25% of astream() tokens/s"),
    ):
        rate = _tokens_per_s(rows, measurement)
        if rate and reference:
            share = rate / reference
            found.append(target(name, f"{share:.0%}", share >= 0.25, share, 0.25))
    first_row = next((r for r in rows if r.spec.measurement == "events/first"), None)
    first = _metric(first_row, "first_event_after_token_s")
    if first is not None:
        ms = first * 1000
        found.append(
            target(
                "(g) v3 first event <= 3 ms after first token", f"{ms:.2f} ms", ms <= 3.0, ms, 3.0
            )
        )
    return found
