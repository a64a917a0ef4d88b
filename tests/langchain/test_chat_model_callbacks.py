"""What a `MiniAgentChatModel` call shows to callbacks and what reaches its agent: one chat-model
run per call (the agent's runs nest under it for tracers), and stop sequences."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler, UsageMetadataCallbackHandler
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnablePassthrough
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run
from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock

from miniagents_lc.langchain import MiniAgentChatModel, chat_model_agent
from tests.langchain.rule_model import RuleChatModel
from tests.langchain.rule_openai import serve_rules


def _model(**fields: Any) -> MiniAgentChatModel:
    return MiniAgentChatModel(agent=chat_model_agent(RuleChatModel(), alias="rule_agent"), **fields)


def _called(how: str) -> Runnable[LanguageModelInput, AIMessage]:
    """The model called directly, or as a step of a chain (which sets the config its steps
    inherit)."""
    return _model() if how == "directly" else RunnablePassthrough() | _model()


how_called = pytest.mark.parametrize("how", ["directly", "in-a-chain"])


class _ModelStarts(BaseCallbackHandler):
    """Counts the chat-model runs a handler is told of."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.names.append(kwargs.get("name") or str((serialized or {}).get("name")))


class _Runs(BaseTracer):
    """Keeps the root runs it traced, with their child runs."""

    def __init__(self) -> None:
        super().__init__()
        self.roots: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        self.roots.append(run)


@how_called
@pytest.mark.parametrize("way", ["invoke", "stream"])
async def test_a_call_is_one_chat_model_run_to_a_callback_handler(how: str, way: str) -> None:
    starts = _ModelStarts()
    config: Any = {"callbacks": [starts]}
    if way == "invoke":
        await _called(how).ainvoke("Hello", config=config)
    else:
        _ = [chunk async for chunk in _called(how).astream("Hello", config=config)]
    assert starts.names == ["MiniAgentChatModel"]


@how_called
async def test_usage_callbacks_count_a_call_once(how: str) -> None:
    usage = UsageMetadataCallbackHandler()
    reply = await _called(how).ainvoke("Hello", config={"callbacks": [usage]})
    assert reply.usage_metadata is not None
    assert usage.usage_metadata == {"rule_agent": reply.usage_metadata}


@how_called
async def test_a_tracer_sees_the_runs_of_the_agent_nested_under_the_model_run(how: str) -> None:
    tracer = _Runs()
    await _called(how).ainvoke("Hello", config={"callbacks": [tracer]})
    (root,) = tracer.roots
    if how == "in-a-chain":
        (root,) = [run for run in root.child_runs if run.run_type == "llm"]
    assert (root.run_type, root.name) == ("llm", "MiniAgentChatModel")
    assert [(run.run_type, run.name) for run in root.child_runs] == [("llm", "RuleChatModel")]


@pytest.mark.parametrize("where", ["call", "field"])
def test_stop_sequences_reach_the_agent_model(where: str) -> None:
    if where == "call":
        reply = _model().invoke("hi", stop=["you"])
    else:
        reply = _model(stop=["you"]).invoke("hi")
    assert reply.text == "I read "
    assert _model().invoke("hi").text == "I read your message: hi"


@how_called
async def test_astream_events_show_the_tokens_once_as_the_model_runs(how: str) -> None:
    events = [event async for event in _called(how).astream_events("Hello", version="v2")]
    streamed = [event for event in events if event["event"] == "on_chat_model_stream"]
    assert {event["name"] for event in streamed} == {"MiniAgentChatModel"}
    text = "".join(event["data"]["chunk"].text for event in streamed)
    assert text == "I read your message: Hello"


async def test_stop_sequences_reach_an_openai_agent_request(openai_mock: OpenAIMock) -> None:
    serve_rules(openai_mock)
    agent = OpenAIAgent.fork(model="rule-gpt", client=openai_mock.async_client())
    reply = await MiniAgentChatModel(agent=agent).ainvoke("hi", stop=["you"])
    (request,) = openai_mock.router.calls
    assert json.loads(request.request.content)["stop"] == ["you"]
    assert reply.text == "I read "
