"""Conversions between LangChain's inputs and messages and the project's `MessageType`."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, Iterable
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    convert_to_messages,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.prompt_values import PromptValue
from pydantic import BaseModel

from miniagents_lc.messages import (
    AssistantMessage,
    Message,
    MessagePromise,
    MessageSequencePromise,
    MessageType,
    thaw,
)

ACCEPTED_INPUT = (
    "str, a LangChain BaseMessage, a list of messages, a PromptValue (e.g. from a "
    "ChatPromptTemplate), a dict with `text` (Message fields) or `content` (a LangChain "
    "message dict), a pydantic model, Message, MessagePromise, "
    "MessageSequencePromise, or an (async) iterable of these"
)


NO_INPUT_HINT = (
    "A MiniAgent can't take None as input: it would send nothing. To call an agent without "
    "input, `agent.trigger()` with no argument; otherwise pass "
)


def input_to_messages(value: Any) -> MessageType:
    """What a Runnable was invoked with, as `MessageType`; a plain string is a user message.

    Raises `TypeError` naming the type and listing what is accepted (None, and a dict that
    would be an empty message, included: see `checked_input`).
    """
    if value is None:
        raise TypeError(f"{NO_INPUT_HINT}{ACCEPTED_INPUT}.")
    if isinstance(value, str):
        return Message(text=value, role="user")
    if isinstance(value, PromptValue):
        return value.to_messages()
    if isinstance(value, dict):
        return _dict_to_message(value)
    if isinstance(
        value, BaseMessage | Message | MessagePromise | MessageSequencePromise | BaseModel
    ):
        return value
    if isinstance(value, AsyncIterable):
        return value
    if isinstance(value, Iterable) and not isinstance(value, bytes | bytearray | memoryview):
        return [
            input_to_messages(item) if isinstance(item, str | PromptValue | dict) else item
            for item in value
        ]
    hint = " (a coroutine: did you forget `await`?)" if inspect.iscoroutine(value) else ""
    raise TypeError(
        f"A MiniAgent can't take a {type(value).__name__} as input{hint}. Accepted: "
        f"{ACCEPTED_INPUT}."
    )


def checked_input(value: MessageType | None) -> MessageType:
    """What `MiniAgent.trigger` sends, checked by the rule of the Runnable face
    (`input_to_messages`): None is refused, and so is a dict with neither `text` (the fields of
    a `Message`) nor `content` (a LangChain message dict, converted as the Runnable converts
    it), at any depth of a list or tuple. Everything else passes unchanged (a str stays a
    `Message` without a role), to be flattened as `MessageType`."""
    if value is None:
        raise TypeError(f"{NO_INPUT_HINT}{ACCEPTED_INPUT}.")
    if isinstance(value, dict):
        return _dict_to_message(value)
    if isinstance(value, list | tuple):
        return [checked_input(item) for item in value]
    return value


def _dict_to_message(value: dict[Any, Any]) -> MessageType:
    """A dict with `text` as the fields of a `Message`, one with `content` as a LangChain
    message dict (a user message unless it names its role); anything else is refused."""
    if "text" in value:
        return value
    if "content" in value:
        if "role" not in value and "type" not in value:
            value = {"role": "user", **value}
        return convert_to_messages([value])[0]
    keys = ", ".join(repr(key) for key in value) or "no keys"
    raise TypeError(
        f"A MiniAgent got a dict with neither `text` nor `content` ({keys}): it would be an "
        "empty message. If these are prompt variables, put a prompt template in front, e.g. "
        '`ChatPromptTemplate.from_template("...{topic}...") | agent`.'
    )


_ROLE_TO_LANGCHAIN = {
    "user": HumanMessage,
    "human": HumanMessage,
    "assistant": AIMessage,
    "ai": AIMessage,
    "system": SystemMessage,
    "developer": SystemMessage,
}


def message_to_langchain(message: Message, *, default_role: str = "user") -> BaseMessage:
    """A `Message` as the LangChain message of its role ("user", "assistant", "system",
    "tool"; no role counts as `default_role`). An unknown role is a `ValueError` naming it."""
    role = message.role or default_role
    extra = message.__pydantic_extra__ or {}
    content: Any = extra.get("content_blocks") or (message.text or "")
    name = extra.get("name")
    if role == "tool":
        tool_call_id = extra.get("tool_call_id")
        if not tool_call_id:
            raise ValueError("A tool message needs a `tool_call_id` field to become a ToolMessage.")
        status = "error" if extra.get("status") == "error" else "success"
        return ToolMessage(content=content, tool_call_id=tool_call_id, name=name, status=status)
    message_class = _ROLE_TO_LANGCHAIN.get(role)
    if message_class is None:
        raise ValueError(
            f"Unknown message role {role!r}: expected one of user, assistant, system, tool "
            "(or a LangChain ChatMessage, which keeps any role)."
        )
    if message_class is AIMessage:
        return _ai_message_of(message, content, name)
    result: BaseMessage = message_class(content=content, name=name)
    return result


def messages_to_langchain(messages: Iterable[Message]) -> list[BaseMessage]:
    """Every message converted with `message_to_langchain`."""
    return [message_to_langchain(message) for message in messages]


def _ai_message_of(message: Message, content: Any, name: Any) -> AIMessage:
    """An assistant `Message` as an `AIMessage`, its typed metadata (or the same keys as
    extra fields, from messages built by hand) passed on unchanged."""
    fields = {**(message.__pydantic_extra__ or {}), **message.__dict__}
    usage = usage_of(message)
    return AIMessage(
        content=content,
        name=name,
        id=fields.get("id"),
        additional_kwargs=additional_kwargs_of(message),
        tool_calls=thaw(fields.get("tool_calls") or []),
        invalid_tool_calls=thaw(fields.get("invalid_tool_calls") or []),
        usage_metadata=thaw(usage) if usage else None,
        response_metadata=response_metadata_of(message),
    )


def additional_kwargs_of(message: Message) -> dict[str, Any]:
    """The `additional_kwargs` of a message as an `AIMessage`: its refusal, if it has one, as
    `"refusal"` (where LangChain's OpenAI model puts it)."""
    refusal = getattr(message, "refusal", None)
    if refusal is None and message.__pydantic_extra__:
        refusal = message.__pydantic_extra__.get("refusal")
    return {"refusal": refusal} if isinstance(refusal, str) and refusal else {}


def usage_of(message: Message) -> UsageMetadata | None:
    """The token usage a message carries, as LangChain `UsageMetadata`: an
    `AssistantMessage`'s typed `usage`, or for a message built by hand an extra
    `usage_metadata`, or an OpenAI-style `usage` with prompt/completion tokens."""
    if isinstance(message, AssistantMessage):
        return message.usage
    extra = message.__pydantic_extra__ or {}
    usage = extra.get("usage_metadata") or extra.get("usage")
    if not isinstance(usage, dict):
        return None
    input_tokens = usage.get("input_tokens", usage.get("prompt_tokens"))
    output_tokens = usage.get("output_tokens", usage.get("completion_tokens"))
    if not isinstance(input_tokens, int) or not isinstance(output_tokens, int):
        return None
    total = usage.get("total_tokens", input_tokens + output_tokens)
    return UsageMetadata(
        input_tokens=input_tokens, output_tokens=output_tokens, total_tokens=int(total)
    )


def response_metadata_of(message: Message) -> dict[str, Any]:
    """The response metadata a message carries, as a chat model's `response_metadata`: its
    own `response_metadata` field, with `finish_reason` and `model_name` taken from fields of
    those names (declared or extra), or from an OpenAI-style `model`, when it has none."""
    fields = {**message.__dict__, **(message.__pydantic_extra__ or {})}
    found = fields.get("response_metadata")
    metadata: dict[str, Any] = dict(found) if isinstance(found, dict) else {}
    for key, sources in (
        ("finish_reason", ("finish_reason",)),
        ("model_name", ("model_name", "model")),
    ):
        value = next((fields[name] for name in sources if isinstance(fields.get(name), str)), None)
        if key not in metadata and value is not None:
            metadata[key] = value
    return metadata


__all__ = [
    "ACCEPTED_INPUT",
    "additional_kwargs_of",
    "checked_input",
    "input_to_messages",
    "message_to_langchain",
    "messages_to_langchain",
    "response_metadata_of",
    "usage_of",
]
