"""`python -m miniagents_lc`: stream the team's answer live, then the measured figures."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable

from miniagents_lc.agents import MiniAgent
from miniagents_lc.demo.scripted_model import ScriptedChatModel
from miniagents_lc.demo.team import DEFAULT_QUESTION, PROMPT, Specialist, build_team
from miniagents_lc.langchain.chat_model_agent import chat_model_agent

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
    depth: dict[str, int] = {}
    streamed: dict[str, int] = {}
    chain = PROMPT | team | StrOutputParser()
    async for event in chain.astream_events({"question": question}, version="v2"):
        run_id = event["run_id"]
        parents = event.get("parent_ids", [])
        level = len(parents)
        kind = event["event"]
        if kind.endswith("_start"):
            depth[run_id] = level
            out.write(f"{'  ' * level}{kind} {event['name']}\n")
        elif kind.endswith("_stream"):
            streamed[run_id] = streamed.get(run_id, 0) + 1
        elif kind.endswith("_end"):
            count = streamed.get(run_id, 0)
            note = f" ({count} streamed chunks)" if count else ""
            out.write(f"{'  ' * depth.get(run_id, level)}{kind} {event['name']}{note}\n")
    out.flush()


async def _run(args: argparse.Namespace, out: TextIO) -> int:
    factory = openai_model_agent_factory(args.openai) if args.openai else scripted_model_agent
    team = build_team(factory)
    if args.events:
        await _print_events(team, args.question, out)
        return 0
    where = f"OpenAI model {args.openai}" if args.openai else "the embedded scripted model"
    out.write(f"Question: {args.question}\nTeam answering on {where}:\n\n")
    parallel = PROMPT | team | StrOutputParser()
    first_token, first_model_token, total = await _stream_answer(parallel, args.question, out)
    sequential = PROMPT | team.fork(sequential=True) | StrOutputParser()
    sequential_total = await _time_silently(sequential, args.question)
    out.write(
        "\nMeasured in this run:\n"
        f"  time to first token       {first_token:7.3f} s\n"
        f"  time to first model token {first_model_token:7.3f} s\n"
        f"  total, agents in parallel {total:7.3f} s\n"
        f"  total, one after another  {sequential_total:7.3f} s "
        f"({sequential_total / total:.1f}x slower)\n"
    )
    return 0


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
    parser.add_argument(
        "--events", action="store_true", help="print the astream_events run tree instead"
    )
    args = parser.parse_args(argv)
    if args.openai and not os.environ.get("OPENAI_API_KEY"):
        parser.error("--openai needs the OPENAI_API_KEY environment variable to be set")
    return asyncio.run(_run(args, sys.stdout))
