"""An agent's input `Message`s as the Messages API's `system` and `messages`.

The API takes the system prompt apart from the turns, wants an assistant's tool calls as
`tool_use` blocks and their results as `tool_result` blocks in the next user turn, and wants
the thinking blocks of an assistant turn that used tools sent back unchanged (signatures and
all). Turns of one role in a row are merged, so the parallel tool results of one assistant turn
form one user turn, as the API requires. Tools are sent as `name`, `description` and
`input_schema`, whatever shape they came in, and a tool choice in LangChain's words (what
`bind_tools(tools, tool_choice=...)` passes on) as the API's `{"type": ...}` object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.utils.function_calling import convert_to_openai_tool
from miniagents_lc import Message
from miniagents_lc.messages import thaw

__all__ = ["SystemPrompt", "anthropic_input", "anthropic_tool_choice", "anthropic_tools"]

#: A system prompt as the API takes it: text, or text blocks (which may carry `cache_control`).
SystemPrompt = str | Sequence[Mapping[str, Any]]

_JSON = dict[str, Any]
_USER_ROLES = ("user", "human")
_ASSISTANT_ROLES = ("assistant", "ai")


def anthropic_input(
    messages: Sequence[Message], system: SystemPrompt | None
) -> tuple[SystemPrompt | None, list[_JSON]]:
    """The `system` and `messages` arguments for `messages.create()`.

    System-role messages join `system` (after it); a message with no role is a user turn; an
    unknown role is a `ValueError` naming it.
    """
    system_texts: list[str] = []
    turns: list[_JSON] = []
    for message in messages:
        role = message.role or "user"
        if role in ("system", "developer"):
            system_texts.append(str(message))
        elif role in _USER_ROLES:
            _append(turns, "user", [_text_block(str(message))])
        elif role in _ASSISTANT_ROLES:
            _append(turns, "assistant", _assistant_blocks(message))
        elif role == "tool":
            _append(turns, "user", [_tool_result_block(message)])
        else:
            raise ValueError(
                f"AnthropicAgent can't send a message of role {role!r}: expected user, "
                "assistant, system or tool."
            )
    return _joined_system(system, system_texts), [_compact(turn) for turn in turns]


def anthropic_tools(tools: Any) -> list[_JSON]:
    """`tools` (LangChain tools, pydantic models, functions, OpenAI tool dicts or Anthropic
    tool dicts) as the `tools` argument for `messages.create()`. Anthropic dicts (with an
    `input_schema`, or server tools with their own `type`) are sent as given."""
    if isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Sequence):
        raise TypeError(
            f"AnthropicAgent tools must be a list of tools, got {type(tools).__name__}: pass "
            "tools=[...] (LangChain tools, pydantic models, functions or tool dicts)."
        )
    sent: list[_JSON] = []
    for tool in tools:
        if isinstance(tool, Mapping) and (
            "input_schema" in tool or tool.get("type") not in (None, "function")
        ):
            sent.append(thaw(tool))
            continue
        try:
            function = convert_to_openai_tool(thaw(tool) if isinstance(tool, Mapping) else tool)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"AnthropicAgent can't use {tool!r} as a tool: pass a LangChain tool, a pydantic "
                "model, a function with a docstring, an OpenAI tool dict or an Anthropic tool "
                f"dict ({error})."
            ) from error
        function = function["function"]
        schema = function.get("parameters") or {"type": "object", "properties": {}}
        sent.append(
            {
                "name": function["name"],
                "description": function.get("description", ""),
                "input_schema": schema,
            }
        )
    return sent


#: The `type`s of the API's own tool-choice objects, sent as given.
_CHOICE_TYPES = ("auto", "any", "tool", "none")


def anthropic_tool_choice(choice: Any) -> _JSON:
    """`choice` as the `tool_choice` argument for `messages.create()`: "auto", "none", "any"
    ("required" and True mean the same, as in LangChain), a tool's name, an OpenAI tool-choice
    dict naming a function, or the API's own object (sent as given). Anything else is a
    `ValueError` naming what is accepted."""
    if choice is True:
        return {"type": "any"}
    if isinstance(choice, str) and choice:
        if choice in ("auto", "none"):
            return {"type": choice}
        if choice in ("any", "required"):
            return {"type": "any"}
        return {"type": "tool", "name": choice}
    if isinstance(choice, Mapping):
        kind = choice.get("type")
        if kind in _CHOICE_TYPES:
            given: _JSON = thaw(choice)
            return given
        if kind == "function":
            function = choice.get("function")
            name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
            if isinstance(name, str) and name:
                return {"type": "tool", "name": name}
    raise ValueError(
        f"AnthropicAgent can't use tool_choice={choice!r}: pass 'auto', 'any', 'none', a "
        "tool's name, or an Anthropic tool_choice dict such as {'type': 'tool', 'name': ...}."
    )


def _fields(message: Message) -> dict[str, Any]:
    return {**(message.__pydantic_extra__ or {}), **message.__dict__}


def _text_block(text: str) -> _JSON:
    return {"type": "text", "text": text}


def _assistant_blocks(message: Message) -> list[_JSON]:
    fields = _fields(message)
    blocks: list[_JSON] = [thaw(block) for block in fields.get("thinking_blocks") or ()]
    if message.text:
        blocks.append(_text_block(message.text))
    for call in fields.get("tool_calls") or ():
        blocks.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": call["name"],
                "input": thaw(call["args"]),
            }
        )
    return blocks or [_text_block("")]


def _tool_result_block(message: Message) -> _JSON:
    fields = _fields(message)
    tool_use_id = fields.get("tool_call_id")
    if not tool_use_id:
        raise ValueError(
            "A tool message needs a `tool_call_id` field (the id of the tool call it answers) "
            "to become an Anthropic tool_result."
        )
    block: _JSON = {"type": "tool_result", "tool_use_id": tool_use_id, "content": str(message)}
    if fields.get("status") == "error":
        block["is_error"] = True
    return block


def _append(turns: list[_JSON], role: str, blocks: list[_JSON]) -> None:
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": blocks})


def _compact(turn: _JSON) -> _JSON:
    """A turn of one text block as plain text, the API's shorthand (and the usual request)."""
    content = turn["content"]
    if len(content) == 1 and content[0]["type"] == "text":
        return {"role": turn["role"], "content": content[0]["text"]}
    return turn


def _joined_system(system: SystemPrompt | None, texts: list[str]) -> SystemPrompt | None:
    if not texts:
        return system
    if system is None or isinstance(system, str):
        return "\n\n".join([system, *texts] if system else texts)
    return [*system, *(_text_block(text) for text in texts)]
