"""`LiveTree`: a running agent tree drawn live in the terminal with rich.

Each agent call is a node of the tree, under the call that made it, siblings in the order they
were made: its state (waiting, streaming, done, failed), elapsed time, streamed chunks, usage
(its own, and its subtree's where it has sub-calls) and the tail of its text. It reads a run's
protocol events, so attaching late (or `since=` an earlier `seq`) shows everything so far. On a
terminal it redraws in place; elsewhere it prints the final tree once, without colour.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

from langchain_core.messages import AIMessage, UsageMetadata
from rich.console import Console, RenderableType
from rich.live import Live
from rich.text import Text
from rich.tree import Tree

from miniagents_lc.protocol import ProtocolEvent
from miniagents_lc.view.state import CallState, CallStatus, RunState
from miniagents_lc.view.usage import PriceTable, usage_cost

_STYLES: dict[CallStatus, tuple[str, str]] = {
    "waiting": ("…", "dim"),
    "streaming": ("▶", "bold yellow"),
    "done": ("✓", "green"),
    "failed": ("✗", "bold red"),
}


class EventSource(Protocol):
    """Anything whose events can be read from a `seq` on: an `AgentRunStream`, an
    `AgentCallStream`, an `EventLog`."""

    def events(self, *, since: int = 0) -> AsyncIterator[ProtocolEvent]: ...


class LiveTree:
    """The tree of a run's agent calls, fed with its events (`follow`, or `state.apply*`),
    rendered with rich (`render`, `text`)."""

    def __init__(self, *, prices: PriceTable | None = None, tail: int = 48) -> None:
        self.state = RunState()
        self.prices = prices
        self.tail = tail
        self.error: Exception | None = None
        """The error the run's events ended with, if it failed."""

    async def follow(self, source: EventSource, *, since: int = 0) -> None:
        """Apply the events of `source` after `since` until its run ends; a failed run's error
        is kept in `error` (the run's owner gets it from the run: `await run.output`)."""
        try:
            async for event in source.events(since=since):
                self.state.apply_event(event)
        except Exception as error:
            self.error = error
        finally:
            self.state.ended = True

    def render(self, now_ms: int | None = None) -> RenderableType:
        """The tree as it stands (times of running calls up to `now_ms`, default now)."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        if not self.state.roots:
            return Text("waiting for the first agent call…", style="dim")
        top = Tree(Text("agents"), hide_root=True, guide_style="dim")
        for root in self.state.roots:
            self._add(top, root, now)
        return top

    def text(self, width: int = 120, now_ms: int | None = None) -> str:
        """The tree as plain text, as printed where colour is off."""
        console = Console(width=width, color_system=None, force_terminal=False, record=False)
        with console.capture() as capture:
            console.print(self.render(now_ms))
        return capture.get()

    def _add(self, parent: Tree, call: CallState, now: int) -> None:
        branch = parent.add(self._label(call, now))
        for child in call.children:
            self._add(branch, child, now)

    def _label(self, call: CallState, now: int) -> Text:
        mark, style = _STYLES[call.status]
        label = Text()
        label.append(f"{mark} {call.alias}", style=style)
        label.append(f"  {call.status} {call.elapsed_ms(now) / 1000:.2f}s", style=style)
        if call.deltas:
            plural = "s" if call.deltas > 1 else ""
            label.append(f"  {call.deltas} chunk{plural}", style="cyan")
        own = call.usage
        if own is not None:
            label.append(f"  {_tokens(own)}", style="magenta")
        if call.children:
            subtree = call.subtree_usage
            if subtree is not None:
                label.append(f"  subtree {_tokens(subtree)}", style="magenta")
        if self.prices is not None and call.subtree_usage is not None:
            by_model = call.subtree_usage_by_model()
            unpriced = sorted(set(by_model) - set(self.prices))
            if unpriced:
                label.append(f"  no price for {', '.join(unpriced)}", style="red")
            else:
                label.append(f"  ${usage_cost(by_model, self.prices):.6f}", style="green")
        if call.budget is not None:
            label.append(f"  {_spent(call, self.prices)}", style="yellow")
        if call.error is not None:
            label.append(f"  {call.error}", style="red")
        elif call.tail and self.tail:
            label.append(f"  “{_tail(call.tail, self.tail)}”", style="italic")
        return label


def _tail(text: str, length: int) -> str:
    """The last words of `text` that fit in `length` characters, on one line."""
    words = " ".join(text.split())
    if len(words) <= length:
        return words
    cut = words[-length:]
    return "…" + cut[cut.find(" ") + 1 :] if " " in cut else "…" + cut


def _spent(call: CallState, prices: PriceTable | None) -> str:
    """What the call's subtree has spent of its own budget: `spent 120/500 tok`, and the cost
    against its cost limit when prices are known."""
    assert call.budget is not None
    subtree = call.subtree_usage
    parts = []
    if "max_tokens" in call.budget:
        spent = subtree["total_tokens"] if subtree is not None else 0
        parts.append(f"{spent}/{int(call.budget['max_tokens'])} tok")
    if "max_cost" in call.budget:
        by_model = call.subtree_usage_by_model()
        known = prices is not None and not set(by_model) - set(prices)
        cost = usage_cost(by_model, prices) if known and prices is not None else None
        spent_cost = f"${cost:.6f}" if cost is not None else "$?"
        parts.append(f"{spent_cost}/${call.budget['max_cost']:g}")
    return "budget " + ", ".join(parts)


def _tokens(usage: UsageMetadata) -> str:
    return f"{usage['input_tokens']}→{usage['output_tokens']} tok"


@contextlib.asynccontextmanager
async def live_tree(
    source: EventSource,
    *,
    console: Console | None = None,
    since: int = 0,
    prices: PriceTable | None = None,
    refresh_per_second: float = 12,
) -> AsyncIterator[LiveTree]:
    """Draw `source`'s agent tree while the block runs (around `await run.output`, say).

    On a terminal the tree redraws in place and stays on screen; otherwise it is printed once,
    without colour, when the block ends. Leaving the block waits for the run's events to end,
    unless the block raised.
    """
    console = console or Console()
    view = LiveTree(prices=prices)
    follower = asyncio.get_running_loop().create_task(view.follow(source, since=since))
    live = (
        Live(get_renderable=view.render, console=console, refresh_per_second=refresh_per_second)
        if console.is_terminal
        else None
    )
    try:
        if live is not None:
            live.start()
        try:
            yield view
            await asyncio.shield(follower)
        finally:
            if not follower.done():
                follower.cancel()
                await asyncio.wait([follower])
            if live is not None:
                live.update(view.render(), refresh=True)
                live.stop()
    finally:
        if live is None:
            console.print(view.render())


async def run_with_live_tree(
    agent: Any,
    input: Any,
    *,
    console: Console | None = None,
    prices: PriceTable | None = None,
    **kwargs: Any,
) -> tuple[AIMessage, LiveTree]:
    """Run `agent` on `input` while drawing its tree; returns the final message (as `ainvoke`
    would) and the view (its `state` holds each call's times and usage)."""
    failure: Exception | None = None
    run = await agent.astream_events(input, version="v3", **kwargs)
    async with run, live_tree(run, console=console, prices=prices) as view:
        try:
            output: AIMessage = await run.output
        except Exception as error:  # raised below, once the tree shows how the run ended
            failure = error
    if failure is not None:
        raise failure
    return output, view


__all__ = ["EventSource", "LiveTree", "live_tree", "run_with_live_tree"]
