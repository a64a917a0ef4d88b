"""The demo's team through the v3 streaming protocol, printed as the tree of its namespaces
(offline: the embedded scripted model, no API key).

Every agent call is one namespace; under each, its lifecycle (the `seq` of each event) and the
messages it replied itself (their first words, the `seq` range of their events, how many text
deltas they took). Then the same run read two other ways: one sub-agent's subtree only, and
the top level with every sub-agent hidden.

Run it with `python examples/protocol_events.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from miniagents_lc.demo.session import scripted_model_agent
from miniagents_lc.demo.team import DEFAULT_QUESTION, build_team
from miniagents_lc.protocol import ProtocolEvent


@dataclass
class _Message:
    text: str = ""
    first_seq: int = 0
    last_seq: int = 0
    deltas: int = 0


@dataclass
class _Call:
    alias: str = ""
    lifecycle: list[str] = field(default_factory=list)
    messages: list[_Message] = field(default_factory=list)


def render_tree(events: Iterable[ProtocolEvent]) -> str:
    """The events of a run as the tree of its namespaces."""
    calls: dict[tuple[str, ...], _Call] = {}
    for event in events:
        where = tuple(event["params"]["namespace"])
        call = calls.setdefault(where, _Call())
        data = event["params"]["data"]
        seq = event["seq"]
        if event["method"] == "lifecycle":
            call.alias = data["graph_name"]
            call.lifecycle.append(f"{data['event']} #{seq}")
        elif data["event"] == "message-start":
            call.messages.append(_Message(first_seq=seq, last_seq=seq))
        else:
            message = call.messages[-1]
            message.last_seq = seq
            if data["event"] == "content-block-delta":
                message.deltas += 1
                message.text += data["delta"]["text"]
    lines: list[str] = []
    for where in sorted(calls, key=lambda path: [int(s.rpartition(":")[2]) for s in path]):
        indent = "    " * len(where)
        name = where[-1] if where else f"{calls[where].alias} []"
        lines.append(f"{indent}{name}: {', '.join(calls[where].lifecycle)}")
        for message in calls[where].messages:
            words = message.text if len(message.text) <= 32 else message.text[:29] + "..."
            lines.append(
                f"{indent}  - {words!r} #{message.first_seq}-#{message.last_seq}, "
                f"{message.deltas} delta{'s' if message.deltas != 1 else ''}"
            )
    return "\n".join(lines)


async def main() -> None:
    team = build_team(scripted_model_agent)
    async with await team.astream_events(DEFAULT_QUESTION, version="v3") as run:
        events = [event async for event in run]
        print(render_tree(events))

        # Route: only the planner's subtree (its own events and its sub-agents').
        planner = [e async for e in run.events(namespaces=[["planner:2"]])]
        print(f"\nplanner's subtree: {len(planner)} events in", end=" ")
        print(sorted({"/".join(e["params"]["namespace"]) for e in planner}))

        # Hide every sub-agent: the top level only.
        top = [e async for e in run.events(depth=0)]
        print(f"top level only: {len(top)} events, all in namespace []")

        # Reply order across parallel sub-agents, as astream() streams it.
        texts = [await stream.text async for stream in run.messages]
        print(f"run.messages: {len(texts)} messages, in reply order: {texts[0]!r} first")


if __name__ == "__main__":
    asyncio.run(main())
