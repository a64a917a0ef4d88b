"""A remote agent as a tool: asked through `as_tool()` or by a `tool_agent`'s model, it answers
from a real server on loopback, its tokens streaming into the caller's reply."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, ToolCall, ToolMessage

from miniagents_lc import tool_agent
from miniagents_lc.remote import RemoteAgent
from miniagents_lc.testing.chat_models import ScriptedToolModel

pytestmark = pytest.mark.allow_hosts(["127.0.0.1"])

REQUEST = "is the remote side listening"
HEARD = "heard: is the remote side listening"


async def test_as_tool_answers_with_the_remote_reply_text(base_url: str) -> None:
    remote = RemoteAgent(base_url, "echo", description="Says back what it was asked.")
    as_tool = remote.as_tool()

    result = await as_tool.ainvoke({"request": REQUEST})

    assert (as_tool.name, as_tool.description) == ("echo", "Says back what it was asked.")
    assert result == HEARD


async def test_tool_agent_streams_the_remote_reply_and_gives_its_text_to_the_model(
    base_url: str,
) -> None:
    model = ScriptedToolModel(
        turns=[
            AIMessage(
                content="Asking.",
                tool_calls=[ToolCall(name="echo", args={"request": REQUEST}, id="call_r")],
            ),
            AIMessage(content="It is listening."),
        ]
    )
    loop = tool_agent(model, [RemoteAgent(base_url, "echo")])

    chunks = [chunk.text async for chunk in loop.astream("Ask the remote agent.")]

    text = "".join(chunks)
    assert model.bound_tools[0] == ["echo"]
    assert text.index("Asking.") < text.index(HEARD) < text.index("It is listening.")
    start = next(index for index, chunk in enumerate(chunks) if "heard:" in chunk)
    end = next(index for index, chunk in enumerate(chunks) if chunk.endswith(" listening"))
    assert "".join(chunks[start : end + 1]).strip() == HEARD
    assert end - start >= 3  # words 10 ms apart arrive apart, not the reply in one piece
    results = [m for m in model.inputs[1] if isinstance(m, ToolMessage)]
    assert [(m.tool_call_id, m.text) for m in results] == [("call_r", HEARD)]
