"""What `OpenAIAgent` sends: its input messages, tools and tool choice in the shape each API
takes.

Message history goes in intact: an assistant message's tool calls (LangChain `ToolCall`s, as
an `AssistantMessage` carries them) become Chat `tool_calls` or Responses `function_call`
items, and a message with role "tool" and a `tool_call_id` field becomes a Chat `tool` message
or a Responses `function_call_output` item.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.utils.function_calling import convert_to_openai_tool
from miniagents_lc import Message
from miniagents_lc.messages import thaw

__all__ = ["Api", "chat_messages", "responses_input", "tool_choice_for", "tools_for"]

Api = Literal["chat", "responses"]
JSON = dict[str, Any]

# The choices both APIs take as they are; LangChain says "any" for "required".
_PLAIN_CHOICES = {"auto": "auto", "none": "none", "required": "required", "any": "required"}


def chat_messages(messages: Sequence[Message], system: str | None) -> list[JSON]:
    """`messages` as Chat Completions messages, the `system` prompt first."""
    converted: list[JSON] = [{"role": "system", "content": system}] if system is not None else []
    for message in messages:
        role = message.role or "user"
        if role == "tool":
            converted.append(
                {"role": "tool", "tool_call_id": _tool_call_id(message), "content": str(message)}
            )
            continue
        entry: JSON = {"role": role, "content": str(message)}
        calls = _calls_of(message)
        if calls:
            entry["content"] = str(message) or None
            entry["tool_calls"] = [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
                for call_id, name, arguments in calls
            ]
        converted.append(entry)
    return converted


def responses_input(messages: Sequence[Message], system: str | None) -> list[JSON]:
    """`messages` as Responses API input items, the `system` prompt first."""
    items: list[JSON] = [{"role": "system", "content": system}] if system is not None else []
    for message in messages:
        role = message.role or "user"
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": _tool_call_id(message),
                    "output": str(message),
                }
            )
            continue
        calls = _calls_of(message)
        if str(message) or not calls:
            items.append({"role": role, "content": str(message)})
        items += [
            {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}
            for call_id, name, arguments in calls
        ]
    return items


def tools_for(api: Api, tools: Any) -> list[JSON]:
    """`tools` (LangChain tools, pydantic models, functions or OpenAI tool dicts) as the
    tool definitions `api` takes; a function tool is nested under "function" for chat and
    flat for the Responses API. Raises `ValueError` for what is not a tool."""
    if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Sequence):
        raise ValueError(
            f"OpenAIAgent tools must be a list of tools, got {type(tools).__name__}: pass "
            "tools=[...] (LangChain tools, pydantic models, functions or OpenAI tool dicts)."
        )
    converted: list[JSON] = []
    for tool in tools:
        try:
            definition: JSON = thaw(convert_to_openai_tool(tool))
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"OpenAIAgent can't use {tool!r} as a tool: pass a LangChain tool, a pydantic "
                f"model, a function with a docstring, or an OpenAI tool dict ({error})."
            ) from error
        converted.append(_function_tool_for(api, definition))
    return converted


def tool_choice_for(api: Api, choice: Any) -> Any:
    """`choice` as the `tool_choice` `api` takes: "auto", "none", "required" (or LangChain's
    "any", or True), a tool's name, or an OpenAI tool-choice dict of either API's shape."""
    if choice is True:
        return "required"
    if isinstance(choice, str):
        if choice in _PLAIN_CHOICES:
            return _PLAIN_CHOICES[choice]
        return _function_choice(api, choice)
    if isinstance(choice, Mapping):
        if choice.get("type") != "function":
            return thaw(choice)  # hosted tools, allowed_tools, custom tools: as given
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
        if isinstance(name, str) and name:
            return _function_choice(api, name)
    raise ValueError(
        f"OpenAIAgent can't use tool_choice={choice!r}: pass 'auto', 'none', 'required', a "
        "tool's name, or an OpenAI tool_choice dict."
    )


def _function_choice(api: Api, name: str) -> JSON:
    if api == "chat":
        return {"type": "function", "function": {"name": name}}
    return {"type": "function", "name": name}


def _function_tool_for(api: Api, definition: JSON) -> JSON:
    if definition.get("type") != "function":
        return definition
    nested = definition.get("function")
    if api == "chat":
        if isinstance(nested, Mapping):
            return definition
        flat = {key: value for key, value in definition.items() if key != "type"}
        return {"type": "function", "function": flat}
    if isinstance(nested, Mapping):
        return {"type": "function", **nested}
    return definition


def _tool_call_id(message: Message) -> str:
    call_id = getattr(message, "tool_call_id", None)
    if not isinstance(call_id, str) or not call_id:
        raise ValueError(
            "A message with role 'tool' needs a `tool_call_id` field naming the call it "
            "answers, e.g. Message(text='42', role='tool', tool_call_id='call_1')."
        )
    return call_id


def _calls_of(message: Message) -> list[tuple[str, str, str]]:
    """The (id, name, JSON arguments) of an assistant message's tool calls, the invalid ones
    with their raw arguments, in order."""
    if message.role != "assistant":
        return []
    calls: list[tuple[str, str, str]] = []
    for call in getattr(message, "tool_calls", None) or ():
        calls.append(_call_of(call, json.dumps(thaw(_field(call, "args", Mapping)))))
    for call in getattr(message, "invalid_tool_calls", None) or ():
        raw = call.get("args") if isinstance(call, Mapping) else None
        calls.append(_call_of(call, raw if isinstance(raw, str) else ""))
    return calls


def _call_of(call: Any, arguments: str) -> tuple[str, str, str]:
    return _field(call, "id", str), _field(call, "name", str), arguments


def _field(call: Any, name: str, kind: type) -> Any:
    value = call.get(name) if isinstance(call, Mapping) else None
    if not isinstance(value, kind):
        raise ValueError(
            f"A tool call in the message history has no valid {name!r} ({call!r}): tool calls "
            "are LangChain ToolCalls, {'id': ..., 'name': ..., 'args': {...}}, as an "
            "AssistantMessage carries them."
        )
    return value
