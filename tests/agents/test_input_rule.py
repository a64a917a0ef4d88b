"""One input rule for both faces of an agent: what `ainvoke` refuses, `trigger` refuses the same
way (at once, naming the fix), and what `ainvoke` converts, `trigger` converts alike; and an
agent function that cannot take the context is refused when the agent is made."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from miniagents_lc import InteractionContext, MiniAgent, MiniAgents, miniagent


@miniagent
async def echo(ctx: InteractionContext) -> None:
    texts = [str(message) for message in await ctx.message_promises.acollect_messages()]
    ctx.reply(f"got {texts}")


async def _by_trigger(value: Any) -> str:
    async with MiniAgents():
        return " ".join(str(m) for m in await echo.trigger(value).acollect_messages())


async def _by_ainvoke(value: Any) -> str:
    return str((await echo.ainvoke(value)).content)


FACES: dict[str, Callable[[Any], Awaitable[str]]] = {
    "trigger": _by_trigger,
    "ainvoke": _by_ainvoke,
}

REFUSED: dict[str, tuple[Any, str]] = {
    "None": (None, r"can't take None as input: it would send nothing\. .*agent\.trigger\(\)"),
    "prompt variables": ({"topic": "x"}, r"neither `text` nor `content` \('topic'\).*prompt"),
    "prompt variables in a list": ([{"topic": "x"}], r"neither `text` nor `content`"),
}


@pytest.mark.parametrize("face", list(FACES))
@pytest.mark.parametrize("case", list(REFUSED))
async def test_both_faces_refuse_the_same_input_naming_the_fix(face: str, case: str) -> None:
    value, message = REFUSED[case]
    with pytest.raises(TypeError, match=message):
        await FACES[face](value)


@pytest.mark.parametrize("face", list(FACES))
async def test_both_faces_send_a_langchain_message_dict_as_its_text(face: str) -> None:
    assert await FACES[face]({"content": "hi there"}) == "got ['hi there']"


async def test_trigger_with_nothing_calls_the_agent_without_input() -> None:
    async with MiniAgents():
        replies = await echo.trigger().acollect_messages()
    assert [str(m) for m in replies] == ["got []"]


async def _no_context() -> None:
    pass


class _NoContextCall:
    async def __call__(self) -> None:
        pass


MAKERS: dict[str, Callable[[Any], MiniAgent]] = {
    "bare decorator": miniagent,
    "decorator with arguments": miniagent(alias="x"),
    "MiniAgent(...)": MiniAgent,
}


@pytest.mark.parametrize("function", [_no_context, _NoContextCall()], ids=["function", "object"])
@pytest.mark.parametrize("make", list(MAKERS))
def test_an_agent_function_without_a_context_parameter_is_refused_when_made(
    make: str, function: Any
) -> None:
    with pytest.raises(TypeError, match=r"takes the interaction context as its first parameter"):
        MAKERS[make](function)


async def _context_by_position(*args: Any) -> None:
    pass


async def _context_and_options(ctx: InteractionContext, *, depth: int = 1) -> None:
    pass


@pytest.mark.parametrize("function", [_context_by_position, _context_and_options])
def test_an_agent_function_that_takes_the_context_is_accepted(function: Any) -> None:
    assert miniagent(function).func is function
