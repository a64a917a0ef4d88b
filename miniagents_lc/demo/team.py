"""The demo team: a `team` agent that asks specialist agents in parallel (one of which asks a
sub-specialist of its own) and replies with all their answers, in order, as they stream."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from langchain_core.prompts import ChatPromptTemplate

from miniagents_lc.agents import InteractionContext, MiniAgent
from miniagents_lc.demo.text import DEFAULT_QUESTION
from miniagents_lc.messages import Message, MessageSequencePromise

ModelAgentFactory = Callable[["Specialist"], MiniAgent]
"""Builds the agent that answers for one specialist (a chat model or an OpenAI call)."""


@dataclass(frozen=True)
class Specialist:
    """One role of the team: its name, its instructions, and the scripted answer the offline
    model gives (`{question}` in it stands for the question asked), with that model's timing."""

    alias: str
    instructions: str
    scripted_reply: str
    first_token_delay: float
    token_delay: float


RESEARCHER = Specialist(
    alias="researcher",
    instructions="You gather the facts that matter for the question. Answer in 2-3 sentences.",
    scripted_reply=(
        "On “{question}”: streaming matters because people read while the model writes: "
        "the first words arrive in a fraction of a second instead of after the whole answer. "
        "Nested agents usually lose that, because each level waits for the level below."
    ),
    first_token_delay=0.25,
    token_delay=0.03,
)
SKEPTIC = Specialist(
    alias="skeptic",
    instructions="You point out the risks and the trade-offs. Answer in 2 sentences.",
    scripted_reply=(
        "Replaying streams costs memory, since every token stays buffered for late readers. "
        "Parallel sub-agents also spend tokens in parallel, so a budget is worth keeping."
    ),
    first_token_delay=0.4,
    token_delay=0.025,
)
PLANNER = Specialist(
    alias="planner",
    instructions="You turn the question into a short plan of steps. Answer in 2 sentences.",
    scripted_reply=(
        "First wrap each model call as an agent, then let one agent trigger the others and "
        "reply with their promises. The consumer reads one continuous stream from the top."
    ),
    first_token_delay=0.3,
    token_delay=0.035,
)
ESTIMATOR = Specialist(
    alias="estimator",
    instructions="You estimate the effort of the plan you are given. Answer in 1 sentence.",
    scripted_reply="About an afternoon: the agents are small and the streaming is free.",
    first_token_delay=0.35,
    token_delay=0.03,
)

PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "You are a small team of specialists answering together."),
        ("user", "{question}"),
    ]
)


def _specialist_agent(
    specialist: Specialist,
    model_agent_factory: ModelAgentFactory,
    helpers: tuple[MiniAgent, ...] = (),
) -> MiniAgent:
    model_agent = model_agent_factory(specialist)

    async def answer(ctx: InteractionContext) -> None:
        question = ctx.message_promises
        ctx.reply(Message(text=f"[{specialist.alias}]", role="assistant"))
        ctx.reply(
            model_agent.trigger([Message(text=specialist.instructions, role="system"), question])
        )
        for helper in helpers:
            ctx.reply(helper.trigger(question))

    return MiniAgent(answer, alias=specialist.alias, description=specialist.instructions)


def build_team(model_agent_factory: ModelAgentFactory) -> MiniAgent:
    """The `team` agent; with `sequential=True` it waits for each specialist before asking
    the next (for comparison), otherwise all of them work at once."""
    estimator = _specialist_agent(ESTIMATOR, model_agent_factory)
    specialists = (
        _specialist_agent(RESEARCHER, model_agent_factory),
        _specialist_agent(SKEPTIC, model_agent_factory),
        _specialist_agent(PLANNER, model_agent_factory, helpers=(estimator,)),
    )

    async def team(ctx: InteractionContext, sequential: bool = False) -> None:
        question = ctx.message_promises
        for specialist in specialists:
            replies: MessageSequencePromise = specialist.trigger(question)
            if sequential:
                await replies.acollect_messages()
            ctx.reply(replies)

    return MiniAgent(
        team, alias="team", description="Asks every specialist and replies with all answers."
    )


__all__ = [
    "DEFAULT_QUESTION",
    "ESTIMATOR",
    "PLANNER",
    "PROMPT",
    "RESEARCHER",
    "SKEPTIC",
    "ModelAgentFactory",
    "Specialist",
    "build_team",
]
