"""Budgets: a subtree that spends more than its budget is stopped within one message of
going over, with a `BudgetExceededError` in its place; its siblings and parent go on."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import UsageMetadata
from langchain_core.messages.ai import add_usage

from miniagents_lc import (
    AssistantMessage,
    Budget,
    BudgetExceededError,
    ErrorMessage,
    InteractionContext,
    MiniAgent,
    MiniAgents,
    ModelPrice,
    chat_model_agent,
    miniagent,
)
from miniagents_lc.testing.chat_models import ScriptedChatModel

USAGE = UsageMetadata(input_tokens=6, output_tokens=4, total_tokens=10)
"""What every scripted model call reports: 10 tokens."""


def scripted(model: str = "m") -> ScriptedChatModel:
    return ScriptedChatModel(
        reply="a b c d", first_token_delay=0, token_delay=0, usage=USAGE, model=model
    )


def spender(alias: str, model: ScriptedChatModel, turns: int = 6, **options: Any) -> MiniAgent:
    """An agent that asks its model `turns` times, one after the other, replying each answer."""
    llm = chat_model_agent(model, alias=f"{alias}_llm")

    @miniagent(alias=alias, **options)
    async def spend(ctx: InteractionContext) -> None:
        for turn in range(turns):
            reply = llm.trigger(f"question {turn}")
            ctx.reply(reply)
            await reply.acollect_messages()

    return spend


def team(*members: MiniAgent) -> MiniAgent:
    @miniagent
    async def lead(ctx: InteractionContext) -> None:
        for member in members:
            ctx.reply(member.trigger("go"))

    return lead


async def collect_into(replies: Any, received: list[Any]) -> None:
    async for promise in replies:
        received.append(await promise)


def summed(messages: list[Any]) -> UsageMetadata:
    usages = [m.usage for m in messages if isinstance(m, AssistantMessage) and m.usage]
    total = usages[0]
    for usage in usages[1:]:
        total = add_usage(total, usage)
    return UsageMetadata(**total)  # type: ignore[typeddict-item]


@pytest.mark.parametrize("way", ["decorator", "fork", "trigger"])
async def test_an_overspending_branch_stops_after_the_message_that_went_over(way: str) -> None:
    greedy_model, frugal_model = scripted(), scripted()
    budget = Budget(max_tokens=25)
    greedy = spender("greedy", greedy_model, budget=budget if way == "decorator" else None)
    if way == "fork":
        greedy = greedy.fork(budget=budget)
    frugal = spender("frugal", frugal_model, turns=2)

    @miniagent
    async def lead(ctx: InteractionContext) -> None:
        ctx.reply(greedy.trigger("go", budget=budget if way == "trigger" else None))
        ctx.reply(frugal.trigger("go"))

    async with MiniAgents(errors_as_messages=True):
        messages = list(await lead.trigger("go").acollect_messages())
    # 10 tokens per call: the third goes over 25; no fourth call is made.
    assert len(greedy_model.calls) == 3
    assert greedy_model.finished == ["completed"] * 3
    texts = [str(message) for message in messages]
    assert texts[:3] == ["a b c d"] * 3
    error = messages[3]
    assert isinstance(error, ErrorMessage)
    assert "BudgetExceededError" in str(error)
    assert "'greedy'" in str(error)
    # The sibling was untouched: both of its answers, whole.
    assert texts[4:] == ["a b c d"] * 2
    assert frugal_model.finished == ["completed"] * 2


async def test_the_error_names_the_call_the_limit_and_the_usage_counted_exactly() -> None:
    model = scripted()
    greedy = spender("greedy", model, budget=Budget(max_tokens=25))
    received: list[Any] = []
    async with MiniAgents():
        replies = greedy.trigger("go")
        with pytest.raises(BudgetExceededError) as raised:
            await collect_into(replies, received)
    error = raised.value
    assert (error.alias, error.budget.max_tokens, error.tokens) == ("greedy", 25, 30)
    assert error.usage == summed(received)
    assert error.usage == add_usage(add_usage(USAGE, USAGE), USAGE)
    assert "max_tokens=25" in str(error)
    assert "30 tokens" in str(error)


async def test_without_errors_as_messages_the_parents_reply_ends_with_the_error_there() -> None:
    greedy = spender("greedy", scripted(), budget=Budget(max_tokens=5))
    frugal_model = scripted()
    async with MiniAgents():
        replies = team(greedy, spender("frugal", frugal_model, turns=1)).trigger("go")
        with pytest.raises(BudgetExceededError):
            await replies.acollect_messages()
        # The sibling goes on by itself: its reply is whole.
    assert frugal_model.finished == ["completed"]


@pytest.mark.parametrize(
    ("outer_limit", "inner_limit", "stopped", "calls"),
    [(100, 25, "inner", 3), (15, 100, "outer", 2)],
    ids=["inner-tighter", "outer-tighter"],
)
async def test_nested_budgets_the_tighter_one_stops_its_own_subtree(
    outer_limit: int, inner_limit: int, stopped: str, calls: int
) -> None:
    model = scripted()
    inner = spender("inner", model, budget=Budget(max_tokens=inner_limit))

    @miniagent(budget=Budget(max_tokens=outer_limit))
    async def outer(ctx: InteractionContext) -> None:
        ctx.reply(inner.trigger("go"))

    async with MiniAgents(errors_as_messages=True):
        messages = await team(outer).trigger("go").acollect_messages()
    assert len(model.calls) == calls
    error = messages[-1]
    assert isinstance(error, ErrorMessage)
    assert f"agent {stopped!r}" in str(error)


async def test_a_context_budget_limits_everything_in_it() -> None:
    model = scripted()
    async with MiniAgents(budget=Budget(max_tokens=15)) as context:
        with pytest.raises(BudgetExceededError, match="the MiniAgents context"):
            await spender("greedy", model).trigger("go").acollect_messages()
    assert len(model.calls) == 2
    assert context.budget_state is not None
    assert context.budget_state.tokens == 20


PRICES = {"cheap": ModelPrice(1.0, 2.0), "dear": ModelPrice(10.0, 20.0)}
"""Per million tokens: a call of 6 in and 4 out costs 14e-6 cheap, 140e-6 dear."""


@pytest.mark.parametrize(("model", "calls"), [("cheap", 4), ("dear", 1)])
async def test_a_cost_budget_prices_each_models_usage(model: str, calls: int) -> None:
    scripted_model = scripted(model)
    budget = Budget(max_cost=50e-6, prices=PRICES)
    greedy = spender("greedy", scripted_model, budget=budget)
    async with MiniAgents():
        with pytest.raises(BudgetExceededError) as raised:
            await greedy.trigger("go").acollect_messages()
    assert len(scripted_model.calls) == calls
    assert raised.value.cost == pytest.approx(calls * PRICES[model].cost(USAGE))


async def test_a_model_without_a_price_fails_naming_the_fix() -> None:
    greedy = spender("greedy", scripted("unpriced"), budget=Budget(max_cost=1.0, prices=PRICES))
    async with MiniAgents():
        with pytest.raises(KeyError, match="no price for the model 'unpriced'"):
            await greedy.trigger("go").acollect_messages()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a limit"),
        ({"max_tokens": -1}, "max_tokens must be >= 0"),
        ({"max_cost": 1.0}, "needs prices"),
    ],
)
def test_a_budget_without_a_sensible_limit_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Budget(**kwargs)


async def test_with_errors_as_messages_the_budgeted_calls_own_reply_ends_with_the_message() -> None:
    model = scripted()
    greedy = spender("greedy", model, budget=Budget(max_tokens=15))
    async with MiniAgents(errors_as_messages=True):
        messages = await greedy.trigger("go").acollect_messages()
    assert [str(message) for message in messages[:2]] == ["a b c d"] * 2
    (error,) = messages[2:]
    assert isinstance(error, ErrorMessage)
    assert "BudgetExceededError" in str(error)
    assert len(model.calls) == 2


async def test_parallel_branches_under_one_budget_stop_together_showing_the_error_once() -> None:
    model = scripted()
    branches = [spender(f"branch{index}", model) for index in range(2)]
    fanout = team(*branches)
    async with MiniAgents(errors_as_messages=True):
        call = fanout.initiate_call(budget=Budget(max_tokens=35))
        messages = await call.reply_sequence().acollect_messages()
    errors = [message for message in messages if isinstance(message, ErrorMessage)]
    assert len(errors) == 1
    assert messages[-1] is errors[0]
    # Over at the fourth answer (40 tokens); a reply already streaming may end, none starts.
    assert 4 <= len(model.calls) <= 5
    assert call.budget_state is not None
    assert call.budget_state.tokens == 10 * len(model.calls)
    expected = USAGE
    for _ in model.calls[1:]:
        expected = add_usage(expected, USAGE)
    assert call.budget_state.usage == expected
