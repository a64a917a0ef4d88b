"""Usage per agent call: each call's own usage, its subtree's, per model, and their cost."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.messages import AIMessage, UsageMetadata

from miniagents_lc import AssistantMessage, InteractionContext, MiniAgent, miniagent
from miniagents_lc.langchain import chat_model_agent
from miniagents_lc.testing.chat_models import ScriptedChatModel
from miniagents_lc.view import USAGE_BY_AGENT_CONFIG, ModelPrice, usage_by_agent, usage_cost


def _said(text: str, model: str, input_tokens: int, output_tokens: int) -> AssistantMessage:
    usage = UsageMetadata(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )
    return AssistantMessage(text=text, model_name=model, usage=usage)


def _usage(input_tokens: int, output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
    }


def _team() -> MiniAgent:
    """lead (m1) asks writer (m2, who asks fact: m1) and critic (m2 and m1)."""

    @miniagent(alias="fact")
    async def fact(ctx: InteractionContext) -> None:
        ctx.reply(_said("a fact", "m1", 3, 2))

    @miniagent(alias="writer")
    async def writer(ctx: InteractionContext) -> None:
        ctx.reply(_said("a draft", "m2", 20, 7))
        ctx.reply(fact.trigger(ctx.message_promises))

    @miniagent(alias="critic")
    async def critic(ctx: InteractionContext) -> None:
        ctx.reply(_said("a doubt", "m2", 4, 1))
        ctx.reply(_said("a second doubt", "m1", 6, 6))

    @miniagent(alias="lead")
    async def lead(ctx: InteractionContext) -> None:
        ctx.reply(_said("a plan", "m1", 10, 5))
        ctx.reply(writer.trigger(ctx.message_promises))
        ctx.reply(critic.trigger(ctx.message_promises))

    return lead


# Summed by hand from the usages above.
EXPECTED = [
    {
        "agent": "lead",
        "namespace": [],
        "usage": _usage(10, 5),
        "subtree_usage": _usage(43, 21),
        "models": {"m1": _usage(10, 5)},
        "subtree_models": {"m1": _usage(19, 13), "m2": _usage(24, 8)},
    },
    {
        "agent": "writer",
        "namespace": ["writer:0"],
        "usage": _usage(20, 7),
        "subtree_usage": _usage(23, 9),
        "models": {"m2": _usage(20, 7)},
        "subtree_models": {"m2": _usage(20, 7), "m1": _usage(3, 2)},
    },
    {
        "agent": "fact",
        "namespace": ["writer:0", "fact:0"],
        "usage": _usage(3, 2),
        "subtree_usage": _usage(3, 2),
        "models": {"m1": _usage(3, 2)},
        "subtree_models": {"m1": _usage(3, 2)},
    },
    {
        "agent": "critic",
        "namespace": ["critic:1"],
        "usage": _usage(10, 7),
        "subtree_usage": _usage(10, 7),
        "models": {"m2": _usage(4, 1), "m1": _usage(6, 6)},
        "subtree_models": {"m2": _usage(4, 1), "m1": _usage(6, 6)},
    },
]


async def _final_message(how: str, agent: MiniAgent) -> AIMessage:
    if how == "ainvoke":
        return await agent.ainvoke("question", USAGE_BY_AGENT_CONFIG)
    total: Any = None
    async for chunk in agent.astream("question", USAGE_BY_AGENT_CONFIG):
        total = chunk if total is None else total + chunk
    return AIMessage(
        content=total.content,
        usage_metadata=total.usage_metadata,
        response_metadata=total.response_metadata,
    )


@pytest.mark.parametrize("how", ["ainvoke", "astream"])
async def test_the_final_message_carries_the_usage_of_every_agent_call(how: str) -> None:
    message = await _final_message(how, _team())
    assert usage_by_agent(message) == EXPECTED
    assert message.usage_metadata == _usage(43, 21)


async def test_a_price_table_turns_a_subtree_usage_into_cost() -> None:
    breakdown = usage_by_agent(await _team().ainvoke("question", USAGE_BY_AGENT_CONFIG))
    prices = {"m1": ModelPrice(1.0, 2.0), "m2": ModelPrice(3.0, 4.0)}
    lead, writer = breakdown[0], breakdown[1]
    # m1: 19 in, 13 out; m2: 24 in, 8 out.
    assert usage_cost(lead["subtree_models"], prices) == pytest.approx(
        (19 * 1 + 13 * 2 + 24 * 3 + 8 * 4) / 1e6
    )
    assert usage_cost(writer["models"], prices) == pytest.approx((20 * 3 + 7 * 4) / 1e6)


async def test_a_model_missing_from_the_price_table_is_named() -> None:
    breakdown = usage_by_agent(await _team().ainvoke("question", USAGE_BY_AGENT_CONFIG))
    with pytest.raises(KeyError, match=r"\['m2'\]"):
        usage_cost(breakdown[0]["subtree_models"], {"m1": ModelPrice(1.0, 1.0)})


async def test_a_run_not_asked_for_the_breakdown_says_how_to_ask() -> None:
    message = await _team().ainvoke("question")
    assert "usage_by_agent" not in message.response_metadata
    assert message.usage_metadata == _usage(43, 21)
    with pytest.raises(ValueError, match="USAGE_BY_AGENT_CONFIG"):
        usage_by_agent(message)


async def test_the_usage_callback_sees_every_nested_chat_model_with_its_name() -> None:
    first = chat_model_agent(
        ScriptedChatModel(reply="one two", model="alpha", first_token_delay=0), alias="first"
    )
    second = chat_model_agent(
        ScriptedChatModel(reply="three four five", model="beta", first_token_delay=0),
        alias="second",
    )

    @miniagent(alias="both")
    async def both(ctx: InteractionContext) -> None:
        ctx.reply([first.trigger(ctx.message_promises), second.trigger(ctx.message_promises)])

    with get_usage_metadata_callback() as callback:
        message = await both.ainvoke("hello there", USAGE_BY_AGENT_CONFIG)
    # Each model reads the one input message of two words.
    assert callback.usage_metadata == {"alpha": _usage(2, 2), "beta": _usage(2, 3)}
    by_call = {entry["agent"]: entry["models"] for entry in usage_by_agent(message)}
    assert by_call["both"] == {}
    assert by_call["first"] == {"alpha": _usage(2, 2)}
    assert by_call["second"] == {"beta": _usage(2, 3)}
