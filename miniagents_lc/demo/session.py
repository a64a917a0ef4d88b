"""The demo's run: the team's agent tree live (or its answer as one stream, with `--plain`),
then the same team one agent after another, then the measured figures.

`miniagents_lc.demo.cli` imports this module (and with it LangChain) only once the demo's first
lines are on the screen."""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable
from rich.console import Console

from miniagents_lc.agents import MiniAgent
from miniagents_lc.demo.team import PROMPT, Specialist, build_team
from miniagents_lc.demo.text import WordWrap
from miniagents_lc.langchain.chat_model_agent import chat_model_agent
from miniagents_lc.protocol import ProtocolEvent
from miniagents_lc.testing.chat_models import ScriptedChatModel
from miniagents_lc.view import RunState, run_with_live_tree

_HEADING = re.compile(r"\[[a-z]+\]")


def scripted_model_agent(specialist: Specialist) -> MiniAgent:
    """The offline default: an embedded scripted chat model with realistic token timing."""
    model = ScriptedChatModel(
        reply=specialist.scripted_reply,
        first_token_delay=specialist.first_token_delay,
        token_delay=specialist.token_delay,
    )
    return chat_model_agent(model, alias=f"{specialist.alias}-model")


def openai_model_agent_factory(model: str) -> Any:
    """Specialists answered by the real OpenAI API through `OpenAIAgent`."""
    from miniagents_lc_openai import OpenAIAgent  # an optional install: checked by the cli

    def factory(specialist: Specialist) -> MiniAgent:
        agent: MiniAgent = OpenAIAgent.fork(alias=f"{specialist.alias}-model", model=model)
        return agent

    return factory


async def _stream_answer(
    chain: Runnable[Any, str], question: str, out: TextIO
) -> tuple[float, float, float]:
    """Stream the answer to `out` (wrapped at word boundaries on a terminal); returns the times
    of the first text out, of the first token a model wrote (the specialists' `[name]`
    headings exist at once) and of the end."""
    wrapped = WordWrap.for_terminal(out)
    start = time.perf_counter()
    first_token: float | None = None
    first_model_token: float | None = None
    seen = ""
    async for text in chain.astream({"question": question}):
        now = time.perf_counter() - start
        if first_token is None and text:
            first_token = now
        if first_model_token is None:
            seen += text
            if _HEADING.sub("", seen).strip():
                first_model_token = now
        wrapped.write(text)
        wrapped.flush()
    total = time.perf_counter() - start
    wrapped.end()
    out.write("\n")
    return (
        first_token if first_token is not None else total,
        first_model_token if first_model_token is not None else total,
        total,
    )


async def _time_with_progress(agent: MiniAgent, question: str, out: TextIO) -> float:
    """Run `agent` on the prompt without showing its answer (the same one again), showing its
    progress on one line instead: each specialist's name as it starts, a dot for every few
    tokens its model writes, a check mark as it ends. Returns the time the run took."""
    prompt = PROMPT.invoke({"question": question})
    start = time.perf_counter()
    tokens = 0
    out.write("  ")
    async with await agent.astream_events(prompt, version="v3") as run:
        async for event in run:
            out.write(_progress_mark(event))
            if event["method"] == "messages" and event["params"]["data"]["event"] == (
                "content-block-delta"
            ):
                tokens += 1
                out.write("." if tokens % _TOKENS_PER_DOT == 0 else "")
            out.flush()
        await run.output
    total = time.perf_counter() - start
    out.write("\n")
    out.flush()
    return total


_TOKENS_PER_DOT = 4


def _progress_mark(event: ProtocolEvent) -> str:
    """What the progress line shows for a lifecycle event of a specialist's call."""
    data = event["params"]["data"]
    alias = str(data.get("graph_name", "")) if event["method"] == "lifecycle" else ""
    if not event["params"]["namespace"] or not alias or alias.endswith("-model"):
        return ""  # not a lifecycle event, or the team's or a model's
    return {"started": f"{alias} ", "completed": "✓ ", "failed": "✗ "}.get(data["event"], "")


async def _print_events(team: MiniAgent, question: str, out: TextIO) -> None:
    """Run the chain and print its runs as a tree: every run under the run that started it,
    siblings in start order (runs overlap in time, so time order would mix the branches)."""
    runs: dict[str, _RunNode] = {}
    roots: list[_RunNode] = []
    chain = PROMPT | team | StrOutputParser()
    async for event in chain.astream_events({"question": question}, version="v2"):
        kind = event["event"]
        run_id = event["run_id"]
        if kind.endswith("_start"):
            node = _RunNode(f"{kind.removeprefix('on_').removesuffix('_start')} {event['name']}")
            runs[run_id] = node
            parents = event.get("parent_ids", [])
            parent = runs.get(parents[-1]) if parents else None
            (parent.children if parent is not None else roots).append(node)
        elif (node_or_none := runs.get(run_id)) is not None:
            if kind.endswith("_stream"):
                node_or_none.streamed += 1
            elif kind.endswith("_error"):
                node_or_none.failed = True
    for index, root in enumerate(roots):
        root.write(out, "", "", last=index == len(roots) - 1)
    out.flush()


@dataclass
class _RunNode:
    """One run of the printed tree."""

    label: str
    children: list[_RunNode] = field(default_factory=list)
    streamed: int = 0
    failed: bool = False

    def write(self, out: TextIO, prefix: str, connector: str, *, last: bool) -> None:
        notes = [f"{self.streamed} streamed chunks"] if self.streamed else []
        if self.failed:
            notes.append("failed")
        note = f" ({', '.join(notes)})" if notes else ""
        out.write(f"{prefix}{connector}{self.label}{note}\n")
        if connector:
            prefix += "   " if last else "│  "
        for index, child in enumerate(self.children):
            is_last = index == len(self.children) - 1
            child.write(out, prefix, "└─ " if is_last else "├─ ", last=is_last)


async def run(args: argparse.Namespace, out: TextIO, loop_errors: list[str]) -> int:
    """The demo as the command line asked for it (the question is already on the screen,
    except with `--events`); returns the exit code."""
    if not args.traceback:
        # What the event loop reports (async generators left open by a Ctrl-C, say) is told
        # after the run, in the run's own words, rather than as tracebacks in the middle.
        asyncio.get_running_loop().set_exception_handler(
            lambda _loop, context: loop_errors.append(str(context.get("message", context)))
        )
    factory = openai_model_agent_factory(args.openai) if args.openai else scripted_model_agent
    team = build_team(factory)
    if args.events:
        await _print_events(team, args.question, out)
        return 0
    figures = await (_plain_run if args.plain else _tree_run)(team, args.question, out)
    out.write(figures.report())
    return 0


@dataclass(frozen=True)
class Figures:
    """What one demo run measured, in seconds."""

    first_token: float
    first_model_token: float
    parallel_total: float
    sequential_total: float

    def report(self) -> str:
        """The figures as the demo prints them."""
        return (
            "\nMeasured in this run:\n"
            f"  first text out (a [heading], no model yet) {self.first_token:7.3f} s\n"
            f"  first token a model wrote                  {self.first_model_token:7.3f} s\n"
            f"  total, agents in parallel                  {self.parallel_total:7.3f} s\n"
            f"  total, one after another                   {self.sequential_total:7.3f} s "
            f"({self.sequential_total / self.parallel_total:.1f}x slower)\n"
        )


_SEQUENTIAL_NOTE = "\nNow timing the same team one agent after another, to compare:\n"


async def _plain_run(team: MiniAgent, question: str, out: TextIO) -> Figures:
    """The answer as one continuous text through `prompt | team | StrOutputParser()`."""
    parallel = PROMPT | team | StrOutputParser()
    first_token, first_model_token, total = await _stream_answer(parallel, question, out)
    sequential_total = await _time_sequentially(team, question, out)
    return Figures(first_token, first_model_token, total, sequential_total)


async def _time_sequentially(team: MiniAgent, question: str, out: TextIO) -> float:
    """The comparison run: the same team, each specialist waiting for the one before it."""
    out.write(_SEQUENTIAL_NOTE)
    out.flush()
    return await _time_with_progress(team.fork(sequential=True), question, out)


async def _tree_run(team: MiniAgent, question: str, out: TextIO) -> Figures:
    """The team's agent tree drawn live (plain once at the end off a terminal), then the
    answer (wrapped at word boundaries on a terminal); then the comparison run shows its
    progress on one line, so that the answer stays on the final screen above the figures."""
    console = Console(file=out)
    prompt = PROMPT.invoke({"question": question})
    answer, view = await run_with_live_tree(team, prompt, console=console)
    out.write("\n")
    wrapped = WordWrap.for_terminal(out)
    wrapped.write(f"{answer.text}\n")
    wrapped.end()
    first_token, first_model_token, total = _timings(view.state)
    sequential_total = await _time_sequentially(team, question, out)
    return Figures(first_token, first_model_token, total, sequential_total)


def _timings(state: RunState) -> tuple[float, float, float]:
    """From the run's events: its first token, the first token a model wrote, its end."""
    root = state.root
    assert root is not None, "the run made no agent call"
    assert root.ended_ms is not None, "the run's root call did not end"
    model_firsts = [
        call.first_token_ms
        for call in root.walk()
        if call.first_token_ms is not None and call.usage_by_model
    ]
    end = root.ended_ms
    first = root.subtree_first_token_ms
    return (
        ((first if first is not None else end) - root.started_ms) / 1000,
        (min(model_firsts, default=end) - root.started_ms) / 1000,
        (end - root.started_ms) / 1000,
    )


__all__ = [
    "Figures",
    "openai_model_agent_factory",
    "run",
    "scripted_model_agent",
]
