"""AnthropicAgent on streams the Anthropic API really sent, recorded by another project.

`recordings/PROVENANCE.md` names each file's source repository, path, commit and licence. Each
is served byte for byte by the offline kit (one event per read) to the real SDK.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from miniagents_lc import AssistantMessage, MiniAgents

from miniagents_lc_anthropic import AnthropicAgent
from miniagents_lc_anthropic.testing import AnthropicMock

RECORDINGS = Path(__file__).with_name("recordings")


async def reply_to(mock: AnthropicMock, name: str) -> tuple[list[str], AssistantMessage]:
    """The tokens and the message of AnthropicAgent's reply when the API sends recording
    `name`."""
    mock.sse("/v1/messages", (RECORDINGS / name).read_bytes())
    agent = AnthropicAgent.fork(model="claude-sonnet-4-5", client=mock.async_client())
    async with MiniAgents():
        (promise,) = [promise async for promise in agent.trigger("Hi")]
        tokens = [token async for token in promise]
        message = await promise
    assert isinstance(message, AssistantMessage)
    return tokens, message


# file: (input, output, thinking share of the output or None when the API did not say)
USAGE: dict[str, tuple[int, int, int | None]] = {
    "thinking_tokens.sse": (2411, 145, 47),
    "thinking_text.sse": (43, 282, None),
}


@pytest.mark.parametrize(("name", "counts"), list(USAGE.items()), ids=list(USAGE))
async def test_thinking_tokens_are_the_reasoning_detail_of_the_output_when_reported(
    name: str, counts: tuple[int, int, int | None], anthropic_mock: AnthropicMock
) -> None:
    inputs, outputs, thinking = counts

    _, message = await reply_to(anthropic_mock, name)

    usage = message.usage
    assert usage is not None
    assert (usage["input_tokens"], usage["output_tokens"]) == (inputs, outputs)
    assert usage["total_tokens"] == inputs + outputs
    expected: Any = {"reasoning": thinking} if thinking is not None else None
    assert usage.get("output_token_details") == expected


async def test_a_recorded_reply_keeps_thinking_out_of_the_text_and_its_id(
    anthropic_mock: AnthropicMock,
) -> None:
    tokens, message = await reply_to(anthropic_mock, "thinking_text.sse")

    fields = message.model_dump()
    assert tokens[:3] == ["Here are", " the", " basic"]
    assert "".join(tokens) == message.text
    assert fields["thinking"].startswith("This is a straightforward question")
    assert fields["thinking"] not in message.text
    assert fields["id"] == "msg_01ALwQ87pTS7hH1PjSdC9wJD"
    assert (message.model_name, message.finish_reason) == ("claude-sonnet-4-20250514", "end_turn")


async def test_server_tool_blocks_add_no_text_between_the_text_blocks(
    anthropic_mock: AnthropicMock,
) -> None:
    tokens, message = await reply_to(anthropic_mock, "thinking_tokens.sse")

    assert tokens[-2:] == ["The", " answer is **4**."]
    assert str(message).endswith("before finalizing.The answer is **4**.")
    assert message.tool_calls == ()  # the advisor is the server's tool, not the caller's
