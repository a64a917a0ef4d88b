"""`RuleChatModel`: an offline chat model that follows rules instead of a script.

It stands in for a provider in langchain-tests' integration suite: it answers text, calls the
bound tools with arguments taken from the prompt, answers after tool results, honours
`tool_choice` and stop sequences, and reports usage, all deterministically. Its tool arguments
come from each tool's JSON schema, filled with values found in the last user message: numbers
in order for numeric fields, quoted text then capitalised phrases for text fields (the prompt
itself when those run out).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import ToolCallChunk, tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

_ARGS_PIECE = 7  # characters of tool-call arguments per streamed chunk
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")
# A run of capitalised words (commas allowed between them), e.g. "San Francisco, CA".
_CAPITALISED = re.compile(r"[A-Z][\w-]*(?:,? [A-Z][\w-]*)*")
_SENTENCE_END = re.compile(r"[.?!:]\s+")
_WORD = re.compile(r"[a-z0-9]+")


class RuleChatModel(BaseChatModel):
    """A chat model that answers by rules, offline.

    - With tools bound and the last message from the user, it calls tools unless
      `tool_choice` is `"none"`: the tool `tool_choice` names, else every bound tool the prompt
      names, else the tool whose name and description share the most words with the prompt.
    - After tool results it answers with them (saying so when a tool failed).
    - Otherwise it answers the last user message.

    Text streams word by word and tool-call arguments a few characters at a time; the last
    chunk carries the usage (input words, output chunks), model name and finish reason.
    The reply ends before the first stop sequence.
    """

    model_name: str = "rule-model"
    stop: list[str] | None = None

    @property
    def _llm_type(self) -> str:
        return "rule-model"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | dict[str, Any] | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        schemas = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=schemas, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        chunks = rule_reply(
            messages,
            tools=kwargs.get("tools") or [],
            tool_choice=kwargs.get("tool_choice"),
            stop=stop or self.stop or [],
            model_name=self.model_name,
        )
        for chunk in chunks:
            if run_manager is not None:
                run_manager.on_llm_new_token(chunk.text, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)


def rule_reply(
    messages: Sequence[BaseMessage],
    *,
    tools: list[dict[str, Any]],
    tool_choice: Any,
    stop: Sequence[str],
    model_name: str,
) -> list[AIMessageChunk]:
    """The chunks `RuleChatModel` streams for `messages` given OpenAI tool schemas, a
    `tool_choice` (LangChain's or OpenAI's spelling) and stop sequences."""
    calls = _tool_calls(messages, tools, tool_choice)
    chunks: list[AIMessageChunk] = []
    if calls:
        for index, (name, args) in enumerate(calls):
            chunks.extend(_call_chunks(index, name, args))
        finish_reason = "tool_calls"
    else:
        text, finish_reason = _cut(_answer(messages), stop)
        chunks.extend(AIMessageChunk(content=word) for word in re.findall(r"\S+\s*", text))
    input_tokens = sum(len(message.text.split()) for message in messages)
    chunks.append(
        AIMessageChunk(
            content="",
            usage_metadata=UsageMetadata(
                input_tokens=input_tokens,
                output_tokens=len(chunks),
                total_tokens=input_tokens + len(chunks),
            ),
            response_metadata={"model_name": model_name, "finish_reason": finish_reason},
            chunk_position="last",
        )
    )
    return chunks


def _tool_calls(
    messages: Sequence[BaseMessage], tools: list[dict[str, Any]], tool_choice: Any
) -> list[tuple[str, dict[str, Any]]]:
    """The (name, args) of the calls to make now, by the rules of `RuleChatModel`."""
    if not tools or tool_choice == "none" or not messages:
        return []
    if not isinstance(messages[-1], HumanMessage):
        return []
    prompt = messages[-1].text
    functions = [tool["function"] for tool in tools]
    chosen = _chosen_name(tool_choice)
    if chosen is not None:
        picked = [f for f in functions if f["name"] == chosen]
        if not picked:
            raise ValueError(f"tool_choice names {chosen!r}, which is not a bound tool")
    else:
        picked = [f for f in functions if f["name"] in prompt] or [
            max(functions, key=lambda f: _overlap(f, prompt))
        ]
    return [(f["name"], _fill(f.get("parameters", {}), _Values(prompt))) for f in picked]


def _chosen_name(tool_choice: Any) -> str | None:
    """The tool name a `tool_choice` forces, if it names one."""
    if isinstance(tool_choice, dict):
        name = tool_choice.get("function", {}).get("name") or tool_choice.get("name")
        return str(name) if name else None
    if isinstance(tool_choice, str) and tool_choice not in {"auto", "any", "required"}:
        return tool_choice
    return None


def _overlap(function: dict[str, Any], prompt: str) -> int:
    """How many words the tool's name and description share with the prompt."""
    described = f"{function['name'].replace('_', ' ')} {function.get('description', '')}"
    return len(set(_WORD.findall(described.lower())) & set(_WORD.findall(prompt.lower())))


class _Values:
    """The values a prompt offers for tool arguments, each handed out once."""

    def __init__(self, prompt: str) -> None:
        self.prompt = prompt
        self.numbers = _NUMBER.findall(prompt)
        quoted = [a or b for a, b in _QUOTED.findall(prompt)]
        capitalised = [
            phrase
            for sentence in _SENTENCE_END.split(prompt)
            for phrase in _CAPITALISED.findall(sentence.split(" ", 1)[1] if " " in sentence else "")
            if phrase != "I"
        ]
        self.texts = quoted + capitalised

    def number(self) -> str | None:
        return self.numbers.pop(0) if self.numbers else None

    def text(self) -> str:
        return self.texts.pop(0) if self.texts else self.prompt


def _fill(schema: dict[str, Any], values: _Values, defs: dict[str, Any] | None = None) -> Any:
    """A value valid for JSON `schema`, taken from `values` where the schema asks for one."""
    defs = {**(defs or {}), **schema.get("$defs", {}), **schema.get("definitions", {})}
    if "$ref" in schema:
        return _fill(defs[schema["$ref"].rsplit("/", 1)[-1]], values, defs)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            branches = [s for s in schema[key] if s.get("type") != "null"]
            return _fill(branches[0], values, defs) if branches else None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _fill(sub, values, defs) for name, sub in properties.items()}
    if kind in ("integer", "number"):
        found = values.number()
        number = float(found) if found is not None else float(schema.get("minimum", 0))
        return int(number) if kind == "integer" else number
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "null":
        return None
    return values.text()


def _call_chunks(index: int, name: str, args: dict[str, Any]) -> Iterator[AIMessageChunk]:
    """One tool call as streamed chunks: the name and id first, then the arguments in pieces."""
    text = json.dumps(args, ensure_ascii=False)
    pieces: list[ToolCallChunk] = [
        tool_call_chunk(name=name, args="", id=f"call_rule_{index}", index=index)
    ]
    pieces.extend(
        tool_call_chunk(name=None, args=text[i : i + _ARGS_PIECE], id=None, index=index)
        for i in range(0, len(text), _ARGS_PIECE)
    )
    for piece in pieces:
        yield AIMessageChunk(content="", tool_call_chunks=[piece])


def _answer(messages: Sequence[BaseMessage]) -> str:
    """The text answer: the tool results after tool messages, else a reply to the user."""
    results: list[ToolMessage] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        results.insert(0, message)
    if results:
        return " ".join(
            f"The tool {m.name or m.tool_call_id} failed: {m.text}"
            if m.status == "error"
            else f"The tool {m.name or m.tool_call_id} returned {m.text}."
            for m in results
        )
    last_user = next((m.text for m in reversed(messages) if isinstance(m, HumanMessage)), "")
    return f"I read your message: {last_user}" if last_user else "I read no message."


def _cut(text: str, stop: Sequence[str]) -> tuple[str, str]:
    """`text` up to its first stop sequence, and the finish reason."""
    ends = [text.find(sequence) for sequence in stop if sequence and sequence in text]
    return (text[: min(ends)], "stop_sequence") if ends else (text, "stop")
