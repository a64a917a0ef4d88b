"""Workload (h): agents called as tools, in parallel, read as one stream.

A scripted model calls 8 sub-agents as tools in one turn; each sub-agent waits `SUB_WAIT` s,
then streams `TOKENS` tokens `GAP` s apart; then the model answers in `TOKENS` tokens. Two
ways to run it, both read as one stream:

- miniagents_lc: `tool_agent(model, sub_agents).astream()`, the sub-agents `chat_model_agent`s
  over the sub-models (and again as plain agents streaming the same tokens themselves);
- LangGraph: `create_react_agent(model, tools)` with each sub-model behind a LangChain tool,
  read with `astream(stream_mode="messages")`.

Checked, not timed: the sub-agent tokens of miniagents_lc arrive in tool-call order, each
sub-agent's text contiguous. Timed: the total against two floors, and how long the first
sub-agent token takes from production to consumer. The floors:

- "models alone" (the target's): the same models streamed directly with `astream()`, no agents
  and no graph: the model's tool-call turn, the 8 sub-models in parallel, the model's answer.
  That is one sub-agent plus the model's own time, LangChain's per-chunk work included.
- "sleeps alone": the same sleeps in plain asyncio, as the timers of this machine keep them.
  Beyond the models-alone floor it also charges the frameworks for the models' own LangChain
  work (about 0.1 ms per chunk, which delays the next sleep of that model).

Self-contained: `python -m benchmarks.impl_tools [--runs N]` prints the figures side by
side and exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolCall
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.tools import BaseTool, StructuredTool

# Loaded up front, as `import miniagents_lc` did before its names loaded on first use: the
# measurements time runs, not the one-off import an agent's first run makes of these layers.
import miniagents_lc.protocol
import miniagents_lc.view.usage  # noqa: F401
from miniagents_lc import (
    AssistantMessage,
    InteractionContext,
    MiniAgent,
    chat_model_agent,
    tool_agent,
)
from miniagents_lc.testing.chat_models import ScriptedToolModel

SUB_AGENTS = 8
TOKENS = 20
SUB_WAIT = 0.2
GAP = 0.01
TOTAL_TARGET = 1.05
"""The total may exceed the models-alone floor by 5% at most."""
FIRST_TOKEN_TARGET_S = 0.003
"""The first sub-agent token reaches the consumer within 3 ms of being produced."""

IDEAL_S = (SUB_WAIT + (TOKENS - 1) * GAP) + (TOKENS - 1) * GAP
"""One sub-agent (its wait and its tokens) plus the model's answer; the tool-call turn of the
model costs no scripted time."""


@dataclass
class _Log:
    """When each sub-agent token was produced, and what the consumer got when."""

    produced: dict[str, float] = field(default_factory=dict)
    received: list[tuple[float, str]] = field(default_factory=list)


class _SubModel(BaseChatModel):
    """A sub-agent's model: waits `SUB_WAIT`, then streams "s<agent>t<index> " tokens."""

    index: int
    log: Any

    @property
    def _llm_type(self) -> str:
        return "bench-sub-agent"

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        raise NotImplementedError("the benchmark only streams")

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async for token in _sub_tokens(self.index, self.log):
            yield ChatGenerationChunk(message=AIMessageChunk(content=token))


async def _sub_tokens(index: int, log: _Log) -> AsyncIterator[str]:
    """What sub-agent `index` streams, each token's production time logged."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(SUB_WAIT)
    for position in range(TOKENS):
        if position:
            await asyncio.sleep(GAP)
        token = f"s{index}t{position:02d} "
        log.produced[token] = loop.time()
        yield token


def _model() -> ScriptedToolModel:
    calls = [
        ToolCall(name=f"sub{index}", args={"request": f"part {index}"}, id=f"call{index}")
        for index in range(SUB_AGENTS)
    ]
    # Exactly TOKENS tokens once split into words: no trailing space token, so no extra gap.
    answer = " ".join(f"a{position:02d}" for position in range(TOKENS))
    return ScriptedToolModel(
        turns=[AIMessage(content="", tool_calls=calls), AIMessage(content=answer)],
        token_delay=GAP,
    )


def _langchain_tool(model: _SubModel, index: int) -> BaseTool:
    async def ask(request: str) -> str:
        reply = await model.ainvoke(request)
        return reply.text

    return StructuredTool.from_function(
        coroutine=ask, name=f"sub{index}", description=f"Sub-agent {index}."
    )


Run = Callable[[], Awaitable[None]]


def _chat_model_sub_agent(index: int, log: _Log) -> MiniAgent:
    """The sub-agent as a `chat_model_agent` over its scripted model."""
    return chat_model_agent(_SubModel(index=index, log=log), alias=f"sub{index}")


def _plain_sub_agent(index: int, log: _Log) -> MiniAgent:
    """The sub-agent as a plain agent streaming its own tokens (no chat-model run)."""

    async def sub_agent(ctx: InteractionContext) -> None:
        ctx.reply(AssistantMessage.promise(lambda _promise: _sub_tokens(index, log)))

    return MiniAgent(sub_agent, alias=f"sub{index}", description=f"Sub-agent {index}.")


def _tool_agent_reader(sub_agent: Callable[[int, _Log], MiniAgent]) -> Callable[[_Log], Run]:
    """Builds `tool_agent` over these sub-agents and reads its `astream()`."""

    def build(log: _Log) -> Run:
        agent = tool_agent(_model(), [sub_agent(index, log) for index in range(SUB_AGENTS)])

        async def run() -> None:
            loop = asyncio.get_running_loop()
            async for chunk in agent.astream("go"):
                if chunk.text:
                    log.received.append((loop.time(), chunk.text))

        return run

    return build


def _build_langgraph(log: _Log) -> Run:
    from langgraph.prebuilt import create_react_agent

    tools = [_langchain_tool(_SubModel(index=index, log=log), index) for index in range(SUB_AGENTS)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        graph = create_react_agent(_model(), tools)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        async for chunk, _metadata in graph.astream(
            {"messages": [("user", "go")]}, stream_mode="messages"
        ):
            if isinstance(chunk, AIMessageChunk) and chunk.text:
                log.received.append((loop.time(), chunk.text))

    return run


@dataclass
class Figures:
    """One run's figures."""

    total_s: float
    first_token_lag_s: float
    in_call_order: bool
    contiguous: bool


def _figures(log: _Log, started: float, ended: float) -> Figures:
    arrivals: list[tuple[float, str]] = []
    for at, text in log.received:
        arrivals.extend((at, token + " ") for token in text.split() if token.startswith("s"))
    if len(arrivals) != SUB_AGENTS * TOKENS:
        raise AssertionError(
            f"expected {SUB_AGENTS * TOKENS} sub-agent tokens, got {len(arrivals)}"
        )
    first_at, first_token = arrivals[0]
    agents = [token.split("t")[0] for _at, token in arrivals]
    # Runs of one agent's tokens: contiguous means exactly one run per agent.
    runs = [agents[0]] + [agents[i] for i in range(1, len(agents)) if agents[i] != agents[i - 1]]
    return Figures(
        total_s=ended - started,
        first_token_lag_s=first_at - log.produced[first_token],
        in_call_order=runs == [f"s{index}" for index in range(SUB_AGENTS)],
        contiguous=len(runs) == SUB_AGENTS,
    )


def measure(build: Callable[[_Log], Run]) -> Figures:
    """One run, built first (tools, schemas, graph: not timed), in a fresh event loop."""

    async def main() -> Figures:
        log = _Log()
        run = build(log)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await run()
        return _figures(log, started, loop.time())

    return asyncio.run(main())


IMPLEMENTATIONS: dict[str, Callable[[_Log], Run]] = {
    "miniagents_lc: tool_agent().astream()": _tool_agent_reader(_chat_model_sub_agent),
    "miniagents_lc: the same, sub-agents plain agents": _tool_agent_reader(_plain_sub_agent),
    'LangGraph: create_react_agent, stream_mode="messages"': _build_langgraph,
}


def models_floor_s() -> float:
    """The same models streamed directly, with nothing around them: the model's tool-call
    turn, the sub-models in parallel, then the model's answer."""

    async def drain(stream: AsyncIterator[Any]) -> None:
        async for _chunk in stream:
            pass

    async def main() -> float:
        log = _Log()
        model = _model()
        sub_models = [_SubModel(index=index, log=log) for index in range(SUB_AGENTS)]
        loop = asyncio.get_running_loop()
        started = loop.time()
        await drain(model.astream([HumanMessage("go")]))
        await asyncio.gather(
            *(drain(sub.astream(f"part {index}")) for index, sub in enumerate(sub_models))
        )
        # One AI message in the history: the script's second turn, the answer.
        await drain(model.astream([HumanMessage("go"), AIMessage(content="")]))
        return loop.time() - started

    return asyncio.run(main())


def floor_s() -> float:
    """The same waits with nothing else: the sub-agents' sleeps in parallel, then the
    answer's. Timers overshoot on a loaded machine, so this is the ideal as measured here."""

    async def sub_agent() -> None:
        await asyncio.sleep(SUB_WAIT)
        for _ in range(TOKENS - 1):
            await asyncio.sleep(GAP)

    async def main() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(sub_agent() for _ in range(SUB_AGENTS)))
        for _ in range(TOKENS - 1):
            await asyncio.sleep(GAP)
        return loop.time() - started

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    """Best of `--runs` per implementation, side by side; non-zero when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args(argv).runs
    print(
        f"(h) {SUB_AGENTS} sub-agents as tools, each {SUB_WAIT * 1000:.0f} ms then {TOKENS} "
        f"tokens {GAP * 1000:.0f} ms apart; model answers in {TOKENS} tokens. "
        f"Ideal {IDEAL_S * 1000:.0f} ms."
    )
    floor = min(models_floor_s() for _ in range(runs))
    sleeps = min(floor_s() for _ in range(runs))
    print(
        f"{'implementation':58} {'total ms':>9} {'x models':>8} {'x sleeps':>8} "
        f"{'1st lag ms':>10} order  contiguous"
    )
    print(f"{'floor: the same models alone, astream() each':58} {floor * 1000:9.1f}")
    print(f"{'floor: the same sleeps alone, plain asyncio':58} {sleeps * 1000:9.1f}")
    best: dict[str, Figures] = {}
    for label, run in IMPLEMENTATIONS.items():
        figures = [measure(run) for _ in range(runs)]
        best[label] = Figures(
            total_s=min(f.total_s for f in figures),
            first_token_lag_s=min(f.first_token_lag_s for f in figures),
            in_call_order=all(f.in_call_order for f in figures),
            contiguous=all(f.contiguous for f in figures),
        )
        b = best[label]
        print(
            f"{label:58} {b.total_s * 1000:9.1f} {b.total_s / floor:8.3f} "
            f"{b.total_s / sleeps:8.3f} "
            f"{b.first_token_lag_s * 1000:10.2f} {'yes' if b.in_call_order else 'no':5}  "
            f"{'yes' if b.contiguous else 'no'}"
        )
    ours = best["miniagents_lc: tool_agent().astream()"]
    missed = [
        name
        for name, ok in (
            (f"total <= {TOTAL_TARGET}x models alone", ours.total_s <= TOTAL_TARGET * floor),
            ("first sub-agent token <= 3 ms", ours.first_token_lag_s <= FIRST_TOKEN_TARGET_S),
            ("tokens in tool-call order", ours.in_call_order),
            ("each sub-agent contiguous", ours.contiguous),
        )
        if not ok
    ]
    print("targets (miniagents_lc):", "all met" if not missed else "MISSED: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
