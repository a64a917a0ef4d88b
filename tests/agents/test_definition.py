"""Defining agents: `@miniagent` bare and with arguments, alias, description, bound kwargs,
and `fork`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from miniagents_lc import InteractionContext, MiniAgent, MiniAgents, miniagent


@miniagent
async def documented_agent(ctx: InteractionContext) -> None:
    """Answers questions about documentation.

    Second paragraph."""


@miniagent
async def undocumented_agent(ctx: InteractionContext) -> None:
    pass


@miniagent
async def greeter(ctx: InteractionContext, greeting: str = "hello", name: str = "world") -> None:
    ctx.reply(f"{greeting}, {name} (from {ctx.this_agent.alias})")


async def replies_of(agent: MiniAgent, flag: Any, **kwargs: Any) -> list[str]:
    messages = await agent.trigger(schedule_immediately=flag, **kwargs).acollect_messages()
    return [str(m) for m in messages]


def test_bare_decorator_gives_a_mini_agent() -> None:
    assert isinstance(documented_agent, MiniAgent)


def test_alias_defaults_to_the_function_name() -> None:
    assert documented_agent.alias == "documented_agent"


def test_description_defaults_to_the_docstring() -> None:
    assert documented_agent.description == (
        "Answers questions about documentation.\n\nSecond paragraph."
    )


def test_description_is_none_without_docstring() -> None:
    assert undocumented_agent.description is None


def test_decorator_arguments_set_alias_and_description() -> None:
    @miniagent(alias="researcher", description="Finds facts.")
    async def agent(ctx: InteractionContext) -> None:
        """Not this docstring."""

    assert isinstance(agent, MiniAgent)
    assert agent.alias == "researcher"
    assert agent.description == "Finds facts."


def test_decorator_with_empty_parentheses_uses_the_defaults() -> None:
    @miniagent()
    async def plain(ctx: InteractionContext) -> None:
        """Plain."""

    assert plain.alias == "plain"
    assert plain.description == "Plain."


def test_repr_names_the_alias() -> None:
    assert "documented_agent" in repr(documented_agent)


async def test_decorator_kwargs_are_bound_to_every_call(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    @miniagent(alias="bonjour", greeting="bonjour")
    async def agent(ctx: InteractionContext, greeting: str, name: str = "monde") -> None:
        ctx.reply(f"{greeting}, {name}")

    async with agents_context():
        result = await replies_of(agent, scheduling.schedule_immediately)

    assert result == ["bonjour, monde"]


async def test_trigger_kwargs_reach_the_agent_function(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    async with agents_context():
        result = await replies_of(greeter, scheduling.schedule_immediately, name="Ann")

    assert result == ["hello, Ann (from greeter)"]


async def test_fork_binds_kwargs(scheduling: Any, agents_context: Callable[[], MiniAgents]) -> None:
    hi = greeter.fork(greeting="hi")

    async with agents_context():
        result = await replies_of(hi, scheduling.schedule_immediately, name="Bob")

    assert isinstance(hi, MiniAgent)
    assert result == ["hi, Bob (from greeter)"]


async def test_fork_with_alias_names_the_new_agent(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    hi = greeter.fork("hi_greeter", greeting="hi")

    async with agents_context():
        result = await replies_of(hi, scheduling.schedule_immediately)

    assert hi.alias == "hi_greeter"
    assert result == ["hi, world (from hi_greeter)"]


async def test_fork_of_a_fork_adds_to_the_bound_kwargs(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    hi_carl = greeter.fork(greeting="hi").fork(alias="hi_carl", name="Carl")

    async with agents_context():
        result = await replies_of(hi_carl, scheduling.schedule_immediately)

    assert result == ["hi, Carl (from hi_carl)"]


async def test_fork_leaves_the_original_agent_unchanged(
    scheduling: Any, agents_context: Callable[[], MiniAgents]
) -> None:
    greeter.fork("hey_greeter", greeting="hey", name="Dan")

    async with agents_context():
        result = await replies_of(greeter, scheduling.schedule_immediately)

    assert greeter.alias == "greeter"
    assert result == ["hello, world (from greeter)"]


def test_fork_keeps_the_description_unless_given() -> None:
    assert documented_agent.fork("copy").description == documented_agent.description
    assert documented_agent.fork("other", description="Other.").description == "Other."


def test_decorating_a_class_is_a_type_error_naming_the_instance_fix() -> None:
    """A class would be called with the context and return an instance, not a coroutine."""

    class Greeter:
        async def __call__(self, ctx: InteractionContext) -> None:
            ctx.reply("hi")

    with pytest.raises(TypeError, match=r"class Greeter.*MiniAgent\(Greeter\(\)\)"):
        miniagent(Greeter)
    with pytest.raises(TypeError, match=r"class Greeter"):
        miniagent(alias="greeter")(Greeter)


async def test_an_instance_with_async_call_is_an_agent() -> None:
    class Greeter:
        async def __call__(self, ctx: InteractionContext, name: str = "you") -> None:
            ctx.reply(f"hi {name}")

    agent = MiniAgent(Greeter(), alias="greeter")
    async with MiniAgents():
        messages = await agent.trigger(name="Ann").acollect_messages()
    assert [str(m) for m in messages] == ["hi Ann"]
