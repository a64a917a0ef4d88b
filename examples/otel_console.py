"""OpenTelemetry GenAI spans of an agent tree, and a budget stopping one branch (offline).

Part 1 runs the demo team (scripted models, no network) with `miniagents_lc.otel.instrument()`
registered on the `MiniAgents` context, collects the finished spans with the SDK's in-memory
exporter and prints them as a tree: one `invoke_agent` span per agent call, nested as the calls
nest although every call runs in a task of its own, one `chat` span per model call, with the
usage the models reported and the time to their first chunk:

    invoke_agent team  1.31 s
    ├── invoke_agent researcher  1.13 s
    │   └── invoke_agent researcher-model  1.13 s  in=27 out=42
    │       └── chat scripted-demo-model  1.13 s  in=27 out=42  first chunk 0.25 s
    ...

Part 2 gives one of three workers a budget of 25 tokens. Its model reports 10 tokens a call,
so after its third answer it is stopped, and its place in the reply ends with the
`BudgetExceededError` (an error message here, with `errors_as_messages=True`); the other two
finish untouched.

Run it with `python examples/otel_console.py` (needs the `otel` extra and opentelemetry-sdk).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from langchain_core.messages import UsageMetadata
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from miniagents_lc import (
    Budget,
    InteractionContext,
    MiniAgent,
    MiniAgents,
    chat_model_agent,
    miniagent,
)
from miniagents_lc.demo.session import scripted_model_agent
from miniagents_lc.demo.team import DEFAULT_QUESTION, build_team
from miniagents_lc.otel import instrument
from miniagents_lc.testing import ScriptedChatModel


def span_lines(spans: Sequence[ReadableSpan]) -> list[str]:
    """The spans as an indented tree (children in start order), one line each: name,
    duration, usage and time to first chunk where the span has them."""
    by_parent: dict[int | None, list[ReadableSpan]] = {}
    ids = {span.context.span_id for span in spans}
    for span in spans:
        parent = span.parent.span_id if span.parent is not None else None
        by_parent.setdefault(parent if parent in ids else None, []).append(span)
    lines: list[str] = []

    def describe(span: ReadableSpan) -> str:
        attributes = span.attributes or {}
        seconds = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
        text = f"{span.name}  {seconds:.2f} s"
        if "gen_ai.usage.input_tokens" in attributes:
            text += (
                f"  in={attributes['gen_ai.usage.input_tokens']}"
                f" out={attributes['gen_ai.usage.output_tokens']}"
            )
        if span.status.description:
            text += f"  [{span.status.description}]"
        return text

    def walk(span: ReadableSpan, prefix: str, last: bool, root: bool) -> None:
        connector = "" if root else ("└── " if last else "├── ")
        lines.append(prefix + connector + describe(span))
        below = sorted(by_parent.get(span.context.span_id, []), key=lambda s: s.start_time or 0)
        inner = prefix if root else prefix + ("    " if last else "│   ")
        for index, child in enumerate(below):
            walk(child, inner, index == len(below) - 1, False)

    for root in sorted(by_parent.get(None, []), key=lambda s: s.start_time or 0):
        walk(root, "", True, True)
    return lines


async def traced_team() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    team = build_team(scripted_model_agent)
    async with MiniAgents(instruments=[instrument(provider)]):
        await team.trigger(DEFAULT_QUESTION).acollect_messages()
    print("The demo team's trace:")
    for line in span_lines(exporter.get_finished_spans()):
        print("  " + line)


TEN_TOKENS = UsageMetadata(input_tokens=6, output_tokens=4, total_tokens=10)


def worker(alias: str, turns: int) -> MiniAgent:
    """An agent that asks its model `turns` times, one after the other."""
    model = ScriptedChatModel(
        reply=f"{alias} answer", first_token_delay=0.01, token_delay=0.01, usage=TEN_TOKENS
    )
    llm = chat_model_agent(model, alias=f"{alias}-model")

    @miniagent(alias=alias)
    async def work(ctx: InteractionContext) -> None:
        for turn in range(turns):
            reply = llm.trigger(f"step {turn}")
            ctx.reply(reply)
            await reply.acollect_messages()

    return work


async def budgeted_branch() -> None:
    workers = [worker("steady", 2), worker("runaway", 6).fork(budget=Budget(max_tokens=25))]
    workers.append(worker("quick", 1))

    @miniagent
    async def lead(ctx: InteractionContext) -> None:
        for item in workers:
            ctx.reply(item.trigger("go"))

    async with MiniAgents(errors_as_messages=True):
        messages = await lead.trigger("go").acollect_messages()
    print("\nA budget of 25 tokens on `runaway` (10 tokens per model call):")
    for message in messages:
        print(f"  {message}")


async def main() -> None:
    await traced_team()
    await budgeted_branch()


if __name__ == "__main__":
    asyncio.run(main())
