"""LangChain messages as `Message`s: the role of a LangChain message, and the conversion that
keeps its metadata (an AI message becomes an `AssistantMessage` with typed fields)."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from miniagents_lc.messages.assistant import AssistantMessage
from miniagents_lc.messages.message import Message

_LANGCHAIN_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_LANGCHAIN_KEPT_FIELDS = (
    "id",
    "name",
    "tool_call_id",
    "tool_calls",
    "invalid_tool_calls",
    "usage_metadata",
    "response_metadata",
    "additional_kwargs",
)


def role_of_langchain_message(message: BaseMessage) -> str:
    """The chat role ("user", "assistant", "system", "tool" or a ChatMessage's own role)."""
    role = getattr(message, "role", None)
    if isinstance(role, str) and message.type == "chat":
        return role
    kind = message.type.removesuffix("Chunk").lower()
    return _LANGCHAIN_ROLES.get(kind, kind)


def message_from_langchain(message: BaseMessage) -> Message:
    """A LangChain message as a `Message` with its role, text and non-empty metadata.

    An AI message becomes an `AssistantMessage`, its tool calls, usage, model name and finish
    reason in the typed fields every adapter reads; a tool message that reports an error keeps
    `status="error"`.
    """
    fields: dict[str, Any] = {}
    for name in _LANGCHAIN_KEPT_FIELDS:
        value = getattr(message, name, None)
        if value:
            fields[name] = value
    if not isinstance(message.content, str):
        fields["content_blocks"] = message.content
    if getattr(message, "status", None) == "error":  # a tool's failure; success goes unsaid
        fields["status"] = "error"
    role = role_of_langchain_message(message)
    if isinstance(message, AIMessage):
        metadata = message.response_metadata or {}
        typed = {
            "usage": fields.pop("usage_metadata", None),
            "model_name": metadata.get("model_name"),
            "finish_reason": metadata.get("finish_reason"),
        }
        fields.update({name: value for name, value in typed.items() if value is not None})
        return AssistantMessage(text=message.text, role=role, **fields)
    return Message(text=message.text, role=role, **fields)


__all__ = ["message_from_langchain", "role_of_langchain_message"]
