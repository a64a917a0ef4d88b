"""AnthropicAgent keeps the adapter contract (`miniagents_lc.testing.AdapterContract`) on the
offline kit."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import anthropic
import pytest
from miniagents_lc.testing import AdapterContract, ContractReply

from miniagents_lc_anthropic import AnthropicAgent, AnthropicStreamError
from miniagents_lc_anthropic.testing import AnthropicMock, ScriptedReply, ToolUse


class TestAnthropicContract(AdapterContract):
    adapter = AnthropicAgent
    options: ClassVar[Mapping[str, Any]] = {"model": "claude-sonnet-4-5"}
    api_path = "/v1/messages"
    text_finish_reason = "end_turn"
    tool_calls_finish_reason = "tool_use"
    # The SDK's own error for an error event; the adapter's for a stream that broke beneath.
    fault_errors: ClassVar[Mapping[str, type[BaseException]]] = {
        "error-event": anthropic.APIStatusError,
        "truncated": AnthropicStreamError,
        "stall": AnthropicStreamError,
        "connection-reset": AnthropicStreamError,
        "malformed-line": AnthropicStreamError,
    }
    retried_statuses: ClassVar[Mapping[int, type[BaseException]]] = {
        529: anthropic.OverloadedError,
        429: anthropic.RateLimitError,
    }
    authentication_error = anthropic.AuthenticationError
    environment_prefix = "ANTHROPIC_"
    api_key_variable = "ANTHROPIC_API_KEY"
    example = Path(__file__).resolve().parents[3] / "examples" / "anthropic_agents.py"
    example_prints = (
        "Hello from the offline kit!",
        "  [thinking: A greeting is asked for.]",
        "Let me check Paris.",
        "  [tool call: get_weather({'city': 'Paris'})]",
        "'input_tokens': 2060",  # 12 + 2048 cache reads, counted once
    )

    @pytest.fixture
    def kit(self, anthropic_mock: AnthropicMock) -> AnthropicMock:
        return anthropic_mock

    def script(self, kit: Any, reply: ContractReply) -> ScriptedReply:
        usage = reply.usage and {"input_tokens": reply.usage[0], "output_tokens": reply.usage[1]}
        return kit.messages(
            reply.tokens,
            tool_uses=[
                ToolUse(call.name, list(call.fragments), id=call.id) for call in reply.tool_calls
            ],
            usage=usage or None,
            **self.kit_options(reply),
        )

    def reply_id(self, serial: int) -> str:
        return f"msg_test{serial:04d}"
