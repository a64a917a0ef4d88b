"""langchain-tests' standard integration tests for `MiniAgentChatModel`, offline, over two
agents that follow the same rules (`RuleChatModel`): a `chat_model_agent` over that model, and
an `OpenAIAgent` whose requests a respx route answers by those rules through the real SDK. The
suite drives the whole LangChain face: tool binding through the agent, streaming, usage,
tool-message histories, structured output."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import openai
import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from miniagents_lc_openai import OpenAIAgent
from miniagents_lc_openai.testing import OpenAIMock

from miniagents_lc.langchain import chat_model_agent
from tests.langchain.rule_model import RuleChatModel
from tests.langchain.rule_openai import serve_rules
from tests.langchain.standard_declarations import MiniAgentChatModelDeclarations


class _RuleAgentSuite(MiniAgentChatModelDeclarations, ChatModelIntegrationTests):
    """The standard integration suite with tool calling, tool choice, structured output
    (function calling, through `bind_tools`), usage metadata and Anthropic-style inputs
    declared; no multimodal input, no JSON mode, no per-call model override."""

    # Standard tests that would only skip themselves here; tests/langchain/conftest.py
    # deselects them (the suite refuses overrides).
    not_applicable: ClassVar[dict[str, str]] = {
        **dict.fromkeys(
            [
                "test_invoke_with_model_override",
                "test_ainvoke_with_model_override",
                "test_stream_with_model_override",
                "test_astream_with_model_override",
            ],
            "`model` names the agent; a call's `model=` kwarg goes to the agent function",
        ),
        "test_json_mode": "structured output is function calling only (through bind_tools)",
        **dict.fromkeys(
            [
                "test_image_inputs",
                "test_image_tool_message",
                "test_pdf_inputs",
                "test_pdf_tool_message",
                "test_audio_inputs",
            ],
            "the offline model reads text only, and the suite downloads these media inputs",
        ),
        "test_stream_time": "a benchmark replaying recorded provider HTTP; no HTTP here",
    }

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return False


class TestOverChatModelAgent(_RuleAgentSuite):
    """`MiniAgentChatModel` over `chat_model_agent(RuleChatModel())`."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"agent": chat_model_agent(RuleChatModel(), alias="rule_agent")}


class TestOverOpenAIAgent(_RuleAgentSuite):
    """`MiniAgentChatModel` over an `OpenAIAgent` served by the rules through the OpenAI SDK."""

    client: openai.AsyncOpenAI

    @pytest.fixture(autouse=True)
    def _rules_served(
        self, request: pytest.FixtureRequest, openai_mock: OpenAIMock
    ) -> Iterator[None]:
        route = serve_rules(openai_mock)
        self.client = openai_mock.async_client()
        yield
        if "model" in request.fixturenames:
            assert route.called, "the test never reached the OpenAI API through the agent"

    @property
    def chat_model_params(self) -> dict[str, Any]:
        agent = OpenAIAgent.fork(alias="rule_openai", model="rule-gpt", client=self.client)
        return {"agent": agent}
