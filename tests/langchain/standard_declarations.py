"""What `MiniAgentChatModel` declares to langchain-tests' standard suites, unit and integration."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from miniagents_lc.langchain import MiniAgentChatModel


class MiniAgentChatModelDeclarations:
    """The model under test, and its tool calling, tool choice and structured output (function
    calling, through `bind_tools`): tools reach the agent as call kwargs."""

    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return MiniAgentChatModel

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True
