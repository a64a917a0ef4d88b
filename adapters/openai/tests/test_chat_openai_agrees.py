"""ChatOpenAI in `chat_model_agent` and `OpenAIAgent` agree over the same mocked HTTP."""

from __future__ import annotations

from langchain_openai import ChatOpenAI
from miniagents_lc import Message, MiniAgent, MiniAgents, chat_model_agent
from miniagents_lc.agents.conversion import usage_of

from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock

TOKENS = ["Both", " adapters", " agree", "."]


async def _tokens_and_message(agent: MiniAgent) -> tuple[list[str], Message]:
    async with MiniAgents():
        (promise,) = [promise async for promise in agent.trigger("Do you agree?")]
        tokens = [token async for token in promise]
        message = await promise
    return tokens, message


async def test_chat_openai_in_chat_model_agent_streams_what_openai_agent_streams(
    openai_mock: OpenAIMock,
) -> None:
    openai_mock.chat(tokens=TOKENS, delay=0.005, usage=True)
    openai_mock.chat(tokens=TOKENS, delay=0.005, usage=True)
    langchain_agent = chat_model_agent(
        ChatOpenAI(
            model="gpt-4o-mini",
            api_key="sk-test",  # type: ignore[arg-type]
            base_url=openai_mock.base_url,
            stream_usage=True,
            max_retries=0,
        ),
        alias="chat-openai",
    )
    sdk_agent = OpenAIAgent.fork(
        alias="openai-sdk", model="gpt-4o-mini", client=openai_mock.async_client()
    )

    langchain_tokens, langchain_message = await _tokens_and_message(langchain_agent)
    sdk_tokens, sdk_message = await _tokens_and_message(sdk_agent)

    assert langchain_tokens == sdk_tokens == TOKENS
    assert langchain_message.text == sdk_message.text == "".join(TOKENS)
    assert langchain_message.role == sdk_message.role == "assistant"
    langchain_usage = usage_of(langchain_message)
    sdk_usage = usage_of(sdk_message)
    assert langchain_usage is not None
    assert sdk_usage is not None
    assert langchain_usage["output_tokens"] == sdk_usage["output_tokens"]
