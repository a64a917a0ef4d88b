"""`AssistantMessage`: the one shape of a model's reply, whichever adapter produced it."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import InvalidToolCall, ToolCall, UsageMetadata

from miniagents_lc.messages.message import FrozenDict, Message

__all__ = ["AssistantMessage", "thaw"]


class AssistantMessage(Message):
    """A model's reply: its text plus typed metadata every adapter fills the same way.

    The metadata uses LangChain's own shapes (`UsageMetadata`, `ToolCall`, `InvalidToolCall`),
    so the LangChain face passes them on unchanged and tools, usage breakdowns and protocol
    events read one set of fields instead of guessing between provider dialects. Provider
    specifics that have no typed field stay extra fields.
    """

    role: str | None = "assistant"
    model_name: str | None = None
    """The model that wrote the reply, as the provider reported it."""
    finish_reason: str | None = None
    """Why generation stopped, in the provider's words (`"stop"`, `"tool_calls"`, …)."""
    usage: UsageMetadata | None = None
    """Token usage of this one reply; cache tokens are counted once, inside `input_tokens`."""
    tool_calls: tuple[ToolCall, ...] = ()
    """Complete tool calls, in the order the model made them; `args` is a mapping."""
    invalid_tool_calls: tuple[InvalidToolCall, ...] = ()
    """Tool calls whose arguments did not parse, with the raw text and the parse error."""
    refusal: str | None = None
    """The model's refusal to answer (OpenAI's `refusal`), whole; it also streamed as the
    message's text. LangChain's face carries it as `AIMessage.additional_kwargs["refusal"]`."""


def thaw(value: Any) -> Any:
    """`value` with every `FrozenDict` a plain `dict` and every tuple a `list`.

    The inverse of a message's freezing for JSON-shaped data (tool arguments, usage), to hand
    to code that expects mutable built-ins, such as LangChain's message constructors.
    """
    if isinstance(value, FrozenDict):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value
