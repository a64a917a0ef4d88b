"""langchain-tests' standard unit tests for `MiniAgentChatModel`."""

from __future__ import annotations

from typing import Any, ClassVar

from langchain_tests.unit_tests import ChatModelUnitTests

from miniagents_lc import InteractionContext, miniagent
from tests.langchain.standard_declarations import MiniAgentChatModelDeclarations


@miniagent(alias="standard_echo")
async def standard_echo(ctx: InteractionContext, **_tools: Any) -> None:
    """Replies with the text of the last input message."""
    messages = await ctx.message_promises.acollect_messages()
    ctx.reply(str(messages[-1]) if messages else "")


class TestMiniAgentChatModelStandard(MiniAgentChatModelDeclarations, ChatModelUnitTests):
    """The standard suite, with tool calling and structured output declared (tools are bound
    with `bind_tools` and reach the agent as call kwargs); no multimodal input."""

    # Standard tests that would only skip themselves here; tests/langchain/conftest.py
    # deselects them (the suite refuses overrides).
    not_applicable: ClassVar[dict[str, str]] = {
        "test_init_from_env": "the model reads no environment variables",
        "test_serdes": "an agent wraps a function, so the model is not serializable",
    }

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"agent": standard_echo}

    @property
    def returns_usage_metadata(self) -> bool:
        return False
