"""langchain-tests' standard integration tests for `MiniAgentChatModel`, offline: the agent is
a `chat_model_agent` over `RuleChatModel`, so the suite drives the whole LangChain face (tool
binding through the agent, streaming, usage, tool-message histories, structured output)."""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from langchain_tests.integration_tests import ChatModelIntegrationTests

from miniagents_lc.langchain import MiniAgentChatModel, chat_model_agent
from tests.langchain.rule_model import RuleChatModel


class TestMiniAgentChatModelIntegration(ChatModelIntegrationTests):
    """The standard integration suite with tool calling, tool choice, structured output
    (through `bind_tools`) and usage declared."""

    not_applicable: ClassVar[dict[str, str]] = {}

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return MiniAgentChatModel

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"agent": chat_model_agent(RuleChatModel(), alias="rule_agent")}

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return True
