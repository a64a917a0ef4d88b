"""`python -m miniagents_lc`: the team's agent tree live (or its answer as one stream, with
`--plain`), then the measured figures."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable
from rich.console import Console

from miniagents_lc.agents import MiniAgent
from miniagents_lc.demo.scripted_model import ScriptedChatModel
from miniagents_lc.demo.team import DEFAULT_QUESTION, PROMPT, Specialist, build_team
from miniagents_lc.langchain import chat_model_agent
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
    from miniagents_lc_openai import OpenAIAgent

    def factory(specialist: Specialist) -> MiniAgent:
        agent: MiniAgent = OpenAIAgent.fork(alias=f"{specialist.alias}-model", model=model)
        return agent

    return factory


async def _stream_answer(
    chain: Runnable[Any, str], question: str, out: TextIO
) -> tuple[float, float, float]:
    """Stream the answer to `out`; returns the times of the first token, of the first token
    a model wrote (the specialists' `[name]` headings exist at once) and of the end."""
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
        out.write(text)
        out.flush()
    total = time.perf_counter() - start
    out.write("\n")
    return (
        first_token if first_token is not None else total,
        first_model_token if first_model_token is not None else total,
        total,
    )


async def _time_silently(chain: Runnable[Any, str], question: str) -> float:
    start = time.perf_counter()
    async for _text in chain.astream({"question": question}):
        pass
    return time.perf_counter() - start


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


async def _run(args: argparse.Namespace, out: TextIO, loop_errors: list[str]) -> int:
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
    where = f"OpenAI model {args.openai}" if args.openai else "the embedded scripted model"
    out.write(f"Question: {args.question}\nTeam answering on {where}:\n\n")
    out.flush()
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
            f"  time to first token       {self.first_token:7.3f} s\n"
            f"  time to first model token {self.first_model_token:7.3f} s\n"
            f"  total, agents in parallel {self.parallel_total:7.3f} s\n"
            f"  total, one after another  {self.sequential_total:7.3f} s "
            f"({self.sequential_total / self.parallel_total:.1f}x slower)\n"
        )


_SEQUENTIAL_NOTE = (
    "\nNow timing the same team one agent after another (each specialist waits for the one "
    "before it), to compare:\n\n"
)


async def _plain_run(team: MiniAgent, question: str, out: TextIO) -> Figures:
    """The answer as one continuous text through `prompt | team | StrOutputParser()`."""
    parallel = PROMPT | team | StrOutputParser()
    first_token, first_model_token, total = await _stream_answer(parallel, question, out)
    out.write(_SEQUENTIAL_NOTE)
    out.flush()
    sequential = PROMPT | team.fork(sequential=True) | StrOutputParser()
    sequential_total = await _time_silently(sequential, question)
    return Figures(first_token, first_model_token, total, sequential_total)


async def _tree_run(team: MiniAgent, question: str, out: TextIO) -> Figures:
    """The team's agent tree drawn live (plain once at the end off a terminal), then the
    answer; the same for the team one agent after another."""
    console = Console(file=out)
    prompt = PROMPT.invoke({"question": question})
    answer, view = await run_with_live_tree(team, prompt, console=console)
    out.write(f"\n{answer.text}\n")
    out.write(_SEQUENTIAL_NOTE)
    out.flush()
    _answer, sequential = await run_with_live_tree(
        team.fork(sequential=True), prompt, console=console
    )
    first_token, first_model_token, total = _timings(view.state)
    return Figures(first_token, first_model_token, total, _timings(sequential.state)[2])


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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the demo; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m miniagents_lc",
        description=(
            "Live demo: an LCEL chain `prompt | team | StrOutputParser()` where `team` asks "
            "specialist agents in parallel (one asks a sub-specialist) and the answer streams "
            "as one continuous text. Offline by default, on an embedded scripted model."
        ),
    )
    parser.add_argument("question", nargs="?", default=DEFAULT_QUESTION, help="what to ask")
    parser.add_argument(
        "--openai",
        metavar="MODEL",
        help="run the same team on the real OpenAI API (needs OPENAI_API_KEY), e.g. gpt-4o-mini",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--tree",
        action="store_true",
        help="draw the agent tree live while it works (the default; plain text off a terminal)",
    )
    shown.add_argument(
        "--plain", action="store_true", help="stream the answer as one continuous text instead"
    )
    shown.add_argument(
        "--events", action="store_true", help="print the astream_events run tree instead"
    )
    parser.add_argument(
        "--traceback", action="store_true", help="on an error, print its whole traceback"
    )
    args = parser.parse_args(argv)
    if args.openai and not os.environ.get("OPENAI_API_KEY"):
        parser.error("--openai needs the OPENAI_API_KEY environment variable to be set")
    loop_errors: list[str] = []
    try:
        code = asyncio.run(_run(args, sys.stdout, loop_errors))
    except KeyboardInterrupt:
        _end_line(sys.stdout)
        sys.stderr.write(f"Interrupted: the agents were stopped.{_hidden(loop_errors)}\n")
        return 130
    except Exception as error:
        if args.traceback:
            raise
        _end_line(sys.stdout)
        sys.stderr.write(f"error: {describe_failure(error)}{_hidden(loop_errors)}\n")
        return 1
    for message in loop_errors:
        sys.stderr.write(f"warning: {message}\n")
    return code


def _hidden(loop_errors: list[str]) -> str:
    if not loop_errors:
        return ""
    return f" ({len(loop_errors)} more errors while stopping; --traceback shows them)"


def _end_line(out: TextIO) -> None:
    """Leave a partly streamed answer on its own line before the message that ends the run."""
    out.write("\n")
    out.flush()


# What to do about an error, by the name of its class or of one of its bases.
_ADVICE = (
    (
        ("AuthenticationError", "PermissionDeniedError"),
        "Check that OPENAI_API_KEY holds a valid key",
    ),
    (("NotFoundError",), "Check the model name given to --openai"),
    (("RateLimitError",), "Wait a little, or check the quota of the account, then run again"),
    (
        ("APIConnectionError", "ConnectError", "TimeoutError", "ConnectionError", "OSError"),
        "Check the network connection and OPENAI_BASE_URL if set, then run again",
    ),
    (("APIStatusError", "APIError"), "The API refused the request: run again later"),
)


def describe_failure(error: BaseException) -> str:
    """One line for a failed run: which agent failed, with what, and what to do."""
    notes: list[str] = list(getattr(error, "__notes__", ()))
    agent = next(
        (
            note.split("agent ", 1)[1]
            for prefix in ("raised in agent ", "passed through the replies of agent ")
            for note in notes
            if note.startswith(prefix)
        ),
        None,
    )
    where = f"agent {agent} failed" if agent is not None else "the run failed"
    bases = {cls.__name__ for cls in type(error).__mro__}
    advice = next(
        (text for names, text in _ADVICE if bases.intersection(names)),
        "This is unexpected: please report it",
    )
    summary = (str(error).strip().splitlines() or [""])[0].rstrip(".")
    detail = f"{type(error).__name__}: {summary}" if summary else type(error).__name__
    return f"{where} with {detail}. {advice} (--traceback prints the details)."


__all__ = [
    "describe_failure",
    "main",
    "openai_model_agent_factory",
    "scripted_model_agent",
]
