"""The live tree: each agent call a node under its caller, with its state, time, chunks, usage
and the tail of its text, read from the run's events (so a late view shows the same)."""

from __future__ import annotations

import asyncio
import io
import re
import subprocess
import sys

import pytest
from rich.console import Console

from miniagents_lc import Budget, InteractionContext, MiniAgent, miniagent
from miniagents_lc.langchain import chat_model_agent
from miniagents_lc.testing.chat_models import ScriptedChatModel
from miniagents_lc.view import LiveTree, ModelPrice, live_tree, run_with_live_tree

FAST_REPLY = "quick short answer"  # 3 tokens
SLOW_REPLY = "a slower and longer answer here"  # 6 tokens


def _lead(fast_delay: float = 0.0, slow_delay: float = 0.8) -> MiniAgent:
    """`lead` asks `fast` and `slow` at once; `slow` thinks long before its first token."""
    fast = chat_model_agent(
        ScriptedChatModel(reply=FAST_REPLY, first_token_delay=fast_delay, token_delay=0.005),
        alias="fast",
    )
    slow = chat_model_agent(
        ScriptedChatModel(reply=SLOW_REPLY, first_token_delay=slow_delay, token_delay=0.005),
        alias="slow",
    )

    @miniagent(alias="lead")
    async def lead(ctx: InteractionContext) -> None:
        ctx.reply([fast.trigger(ctx.message_promises), slow.trigger(ctx.message_promises)])

    return lead


def _rows(text: str) -> list[str]:
    """Each node's line, its tree guides stripped: `<mark> <alias>  <state> ...`."""
    return [re.sub(r"^[\s│├└─]+", "", line) for line in text.splitlines() if line.strip()]


def _row(text: str, alias: str) -> str:
    return next(row for row in _rows(text) if row.split()[1] == alias)


async def test_parallel_siblings_show_their_own_state_while_the_run_goes_on() -> None:
    async with await _lead().astream_events("two words", version="v3") as run:
        view = LiveTree()
        async for event in run.events():
            view.state.apply_event(event)
            if any(call.alias == "fast" and call.finished for call in view.state.calls.values()):
                break
        follower = asyncio.create_task(view.follow(run, since=view.state.last_seq))
        during = view.text()
        await run.output
        await follower
    assert _row(during, "fast").startswith("✓ fast  done")
    assert _row(during, "slow").startswith("… slow  waiting")
    assert _row(during, "lead").startswith("▶ lead  streaming")
    after = view.text()
    assert [row.split()[1] for row in _rows(after)] == ["lead", "fast", "slow"]
    assert all(" done " in row for row in _rows(after))


async def test_the_final_tree_counts_tokens_per_call_and_per_subtree() -> None:
    output, view = await run_with_live_tree(
        _lead(slow_delay=0.01), "two words", console=Console(file=io.StringIO())
    )
    assert output.content == f"{FAST_REPLY}\n\n{SLOW_REPLY}"
    text = view.text()
    # Each model read the one input message of two words.
    assert "2→3 tok" in _row(text, "fast")
    assert "2→6 tok" in _row(text, "slow")
    assert "subtree 4→9 tok" in _row(text, "lead")
    assert "here”" in _row(text, "slow")
    for alias, tokens in (("fast", 3), ("slow", 6)):
        chunks = int(re.search(r"(\d+) chunks?", _row(text, alias)).group(1))  # type: ignore[union-attr]
        assert 1 <= chunks <= tokens


async def test_a_failed_call_shows_failed_with_its_error() -> None:
    @miniagent(alias="broken")
    async def broken(ctx: InteractionContext) -> None:
        ctx.reply("starting")
        await asyncio.sleep(0)  # a task switch between the reply and the failure
        raise RuntimeError("the tool is down")

    @miniagent(alias="lead")
    async def lead(ctx: InteractionContext) -> None:
        ctx.reply(broken.trigger(ctx.message_promises))

    console = Console(file=io.StringIO(), width=120)
    with pytest.raises(RuntimeError, match="the tool is down"):
        await run_with_live_tree(lead, "hi", console=console)
    printed = console.file.getvalue()  # type: ignore[attr-defined]
    assert _row(printed, "broken").startswith("✗ broken  failed")
    assert "RuntimeError: the tool is down" in _row(printed, "broken")


async def test_a_late_view_replays_the_same_tree_and_since_resumes_it() -> None:
    async with await _lead(slow_delay=0.01).astream_events("two words", version="v3") as run:
        live = LiveTree()
        follower = asyncio.create_task(live.follow(run))
        await run.output
        await follower
        late = LiveTree()
        await late.follow(run)
        half = len(run.log) // 2
        resumed = LiveTree()
        for event in run.log.snapshot[:half]:
            resumed.state.apply_event(event)
        await resumed.follow(run, since=resumed.state.last_seq)
    now = max(call.ended_ms or 0 for call in live.state.calls.values())
    assert late.text(now_ms=now) == live.text(now_ms=now)
    assert resumed.text(now_ms=now) == live.text(now_ms=now)


async def test_off_a_terminal_the_tree_is_printed_once_without_colour() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120)
    assert not console.is_terminal
    run = await _lead(slow_delay=0.01).astream_events("two words", version="v3")
    async with run, live_tree(run, console=console):
        await run.output
    printed = out.getvalue()
    assert "\x1b[" not in printed
    assert [row.split()[1] for row in _rows(printed)] == ["lead", "fast", "slow"]


@pytest.mark.parametrize(
    ("prices", "shown"),
    [
        # A dollar per token: the cost is the token count.
        ({"scripted-demo-model": ModelPrice(1e6, 1e6)}, ["$13.000000", "$5.000000", "$8.000000"]),
        ({"another-model": ModelPrice(1.0, 1.0)}, ["no price for scripted-demo-model"] * 3),
    ],
    ids=["priced", "unpriced"],
)
async def test_a_price_table_shows_each_subtree_cost(
    prices: dict[str, ModelPrice], shown: list[str]
) -> None:
    _output, view = await run_with_live_tree(
        _lead(slow_delay=0.01), "two words", console=Console(file=io.StringIO()), prices=prices
    )
    text = view.text(width=160)
    for alias, cost in zip(("lead", "fast", "slow"), shown, strict=True):
        assert cost in _row(text, alias)


def test_importing_the_package_leaves_the_terminal_library_unloaded() -> None:
    # Every process that imports miniagents_lc loads the view package (usage per agent call);
    # only the live tree needs rich.
    probe = "import sys, miniagents_lc.view; print('rich' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "False"


async def test_a_call_with_a_budget_shows_what_its_subtree_spent_of_it() -> None:
    lead = _lead(slow_delay=0.01).fork(budget=Budget(max_tokens=1_000))
    _output, view = await run_with_live_tree(lead, "two words", console=Console(file=io.StringIO()))
    text = view.text(width=160)
    assert "budget 13/1000 tok" in _row(text, "lead")  # (2+3) + (2+6), the whole subtree
    assert "budget" not in _row(text, "fast")  # no budget of its own


async def test_a_branch_over_its_budget_shows_it_spent_and_stopped() -> None:
    slow = chat_model_agent(
        ScriptedChatModel(reply=SLOW_REPLY, token_delay=0.005), alias="slow"
    ).fork(budget=Budget(max_tokens=5))

    @miniagent(alias="lead", errors_as_messages=True)
    async def lead(ctx: InteractionContext) -> None:
        ctx.reply(slow.trigger(ctx.message_promises))

    _output, view = await run_with_live_tree(lead, "two words", console=Console(file=io.StringIO()))
    row = _row(view.text(width=200), "slow")
    assert "budget 8/5 tok" in row
    assert "BudgetExceededError" in row
