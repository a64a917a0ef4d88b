"""What an AG-UI `RunAgentInput` becomes for the agent: its conversation as LangChain
messages, and only the `forwardedProps` the agent declares as keyword arguments."""

from __future__ import annotations

import pytest
from ag_ui.core import RunAgentInput
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from miniagents_lc import InteractionContext, miniagent
from miniagents_lc.agui.server import BadInput, declared_kwargs, to_langchain_messages

from .support import run_input


def conversation(*messages: dict[str, object]) -> RunAgentInput:
    return RunAgentInput.model_validate({**run_input(), "messages": list(messages)})


def test_each_role_becomes_its_langchain_message() -> None:
    converted = to_langchain_messages(
        conversation(
            {"id": "1", "role": "system", "content": "Be brief."},
            {"id": "2", "role": "developer", "content": "Cite sources."},
            {"id": "3", "role": "user", "content": [{"type": "text", "text": "Weather?"}]},
            {
                "id": "4",
                "role": "assistant",
                "content": "",
                "toolCalls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"id": "5", "role": "tool", "toolCallId": "c1", "content": "Rain."},
            {"id": "6", "role": "activity", "activityType": "progress", "content": {}},
            {"id": "7", "role": "reasoning", "content": "thinking"},
        )
    )
    assert [type(message) for message in converted] == [
        SystemMessage,
        SystemMessage,
        HumanMessage,
        AIMessage,
        ToolMessage,
    ]
    assert converted[2].content == "Weather?"
    assert isinstance(converted[3], AIMessage)
    assert converted[3].tool_calls == [
        {"name": "weather", "args": {"city": "Oslo"}, "id": "c1", "type": "tool_call"}
    ]
    assert isinstance(converted[4], ToolMessage)
    assert (converted[4].tool_call_id, converted[4].content) == ("c1", "Rain.")


@pytest.mark.parametrize(
    ("message", "says"),
    [
        (
            {
                "id": "1",
                "role": "user",
                "content": [{"type": "image", "source": {"type": "url", "value": "x"}}],
            },
            "send text parts only",
        ),
        (
            {
                "id": "1",
                "role": "assistant",
                "toolCalls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{"}}
                ],
            },
            "arguments are not JSON",
        ),
    ],
    ids=["image part", "tool arguments not JSON"],
)
def test_what_the_agents_cannot_take_is_refused(message: dict[str, object], says: str) -> None:
    with pytest.raises(BadInput, match=says):
        to_langchain_messages(conversation(message))


@miniagent(tone="plain")
async def writer(ctx: InteractionContext, style: str = "short", *, tone: str = "warm") -> None:
    """Declares `style` and `tone` (bound)."""


@pytest.mark.parametrize(
    ("props", "kwargs"),
    [
        ({"style": "long", "theme": "dark"}, {"style": "long"}),
        ({"tone": "cold"}, {}),
        (None, {}),
        (["style"], {}),
    ],
    ids=["declared only", "bound stays bound", "none", "not an object"],
)
def test_forwarded_props_become_declared_kwargs_only(
    props: object, kwargs: dict[str, object]
) -> None:
    assert declared_kwargs(writer, props) == kwargs
