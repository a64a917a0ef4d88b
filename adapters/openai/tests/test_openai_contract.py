"""OpenAIAgent keeps the adapter contract (`miniagents_lc.testing.AdapterContract`) over both
of its APIs, on the offline kit: each test of the contract runs once per API."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import openai
import pytest
from miniagents_lc.testing import AdapterContract, ContractReply

from miniagents_lc_openai import OpenAIAgent, OpenAIStreamError
from miniagents_lc_openai.testing import OpenAIMock, ScriptedReply, ToolCall


class OpenAIContract(AdapterContract):
    """What both APIs share: the agent, the SDK's errors and credentials, the example."""

    adapter = OpenAIAgent
    fault_errors: ClassVar[Mapping[str, type[BaseException]]] = {
        "error-event": openai.APIError,
        "truncated": OpenAIStreamError,
        "stall": openai.APITimeoutError,
        "connection-reset": openai.APIConnectionError,
        "malformed-line": OpenAIStreamError,
    }
    retried_statuses: ClassVar[Mapping[int, type[BaseException]]] = {429: openai.RateLimitError}
    authentication_error = openai.AuthenticationError
    environment_prefix = "OPENAI_"
    api_key_variable = "OPENAI_API_KEY"
    example = Path(__file__).resolve().parents[3] / "examples" / "openai_agents.py"
    example_prints = (" Streams arrive token by token.", "Hello from the offline kit!")
    text_finish_reason = "stop"
    tool_calls_finish_reason = "tool_calls"

    @pytest.fixture
    def kit(self, openai_mock: OpenAIMock) -> OpenAIMock:
        return openai_mock

    @staticmethod
    def tool_calls(reply: ContractReply) -> list[ToolCall]:
        return [ToolCall(call.name, list(call.fragments), id=call.id) for call in reply.tool_calls]


class TestChatCompletionsContract(OpenAIContract):
    options: ClassVar[Mapping[str, Any]] = {"model": "gpt-4o-mini", "api": "chat"}
    api_path = "/chat/completions"

    def script(self, kit: Any, reply: ContractReply) -> ScriptedReply:
        usage = reply.usage and {
            "prompt_tokens": reply.usage[0],
            "completion_tokens": reply.usage[1],
        }
        return kit.chat(
            reply.tokens,
            tool_calls=self.tool_calls(reply),
            finish_reason="tool_calls" if reply.tool_calls else "stop",
            usage=usage or "auto",
            **self.kit_options(reply),
        )

    def reply_id(self, serial: int) -> str:
        return f"chatcmpl-test{serial:04d}"


class TestResponsesContract(OpenAIContract):
    options: ClassVar[Mapping[str, Any]] = {"model": "gpt-4o-mini", "api": "responses"}
    api_path = "/responses"

    def script(self, kit: Any, reply: ContractReply) -> ScriptedReply:
        usage = reply.usage and {"input_tokens": reply.usage[0], "output_tokens": reply.usage[1]}
        return kit.responses(
            reply.tokens,
            tool_calls=self.tool_calls(reply),
            usage=usage or None,
            **self.kit_options(reply),
        )

    def reply_id(self, serial: int) -> str:
        return f"resp_test{serial:04d}"
