"""Chat-model doubles: offline LangChain chat models that stream a script with a provider's
timing and shapes, so the demo, the examples, the docs and the tests run with no API key.

- `ScriptedChatModel` answers every call with one scripted reply, word by word (the model of
  the offline demo, `python -m miniagents_lc`).
- `ScriptedToolModel` plays a script of turns, text then tool calls, so tool loops run offline.

They need only `langchain-core` (no `testing` extra), and record what they were called with.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.messages.tool import ToolCallChunk, tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

__all__ = ["ScriptedChatModel", "ScriptedError", "ScriptedToolModel", "split_into_tokens"]

_TOKEN = re.compile(r"\s*\S+")


def split_into_tokens(text: str) -> list[str]:
    """Word-sized tokens that join back into `text` exactly (leading spaces kept)."""
    tokens = _TOKEN.findall(text)
    rest = text[sum(map(len, tokens)) :]
    if rest:
        tokens.append(rest)
    return tokens


class ScriptedError(Exception):
    """What a `ScriptedChatModel` raises when told to fail (`fail_after`)."""


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers every call with `reply`, streamed word by word: it waits
    `first_token_delay` seconds (the model "thinking"), then `token_delay` between tokens.

    `{question}` in `reply` stands for the text of the last user message it was sent. Usage is
    reported like a real model's: prompt words in, reply tokens out. Tests script more: exact
    `tokens`, fixed (or no) `usage`, tool-call chunks, a failure after some tokens, metadata in
    chunks of their own; and read back what it was called with (`calls`), how each stream
    ended (`finished`) and when each token was produced (`token_times`).
    """

    model: str = "scripted-demo-model"
    reply: str = ""
    tokens: list[str] | None = None
    """The tokens to stream; by default `reply` split into words."""
    first_token_delay: float = Field(default=0.3, ge=0)
    token_delay: float = Field(default=0.03, ge=0)
    usage: UsageMetadata | Literal["counted"] | None = "counted"
    """The usage to report: counted from the words (the default), fixed, or none."""
    finish_reason: str | None = "stop"
    tool_call_chunks: list[ToolCallChunk] = Field(default_factory=list)
    metadata_apart: bool = False
    """Send tool calls, response metadata and usage each in a chunk of its own after the text
    (as some providers do) instead of in one last chunk."""
    fail_after: int | None = None
    """Raise `ScriptedError` after this many tokens."""
    # The records below are what happened, not what the model is: kept out of its repr, which
    # LangChain renders when the model first runs (and which would grow with every call).
    calls: list[dict[str, Any]] = Field(default_factory=list, repr=False)
    """One entry per stream: the input messages and the call kwargs."""
    finished: list[str] = Field(default_factory=list, repr=False)
    """One entry per stream that ran to its end or was stopped: "completed" or "interrupted"."""
    token_times: list[float] = Field(default_factory=list, repr=False)
    """Monotonic time at which each token was produced, across all streams."""

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _usage(self, messages: list[BaseMessage], output_tokens: int) -> UsageMetadata | None:
        if self.usage != "counted":
            return self.usage
        input_tokens = sum(len(message.text.split()) for message in messages)
        return UsageMetadata(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=input_tokens + output_tokens,
        )

    def _reply_to(self, messages: list[BaseMessage]) -> str:
        if "{question}" not in self.reply:
            return self.reply
        question = next((m.text for m in reversed(messages) if m.type == "human"), "")
        return self.reply.replace("{question}", question.strip())

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[AIMessageChunk]:
        tokens = split_into_tokens(self._reply_to(messages)) if self.tokens is None else self.tokens
        for index, token in enumerate(tokens):
            if self.fail_after is not None and index == self.fail_after:
                raise ScriptedError(f"{self.model} failed after {index} tokens")
            yield AIMessageChunk(content=token)
        metadata: dict[str, Any] = {"model_name": self.model}
        if self.finish_reason is not None:
            metadata["finish_reason"] = self.finish_reason
        usage = self._usage(messages, len(tokens))
        if not self.metadata_apart:
            yield AIMessageChunk(
                content="",
                tool_call_chunks=self.tool_call_chunks,
                usage_metadata=usage,
                response_metadata=metadata,
                chunk_position="last",
            )
            return
        if self.tool_call_chunks:
            yield AIMessageChunk(content="", tool_call_chunks=self.tool_call_chunks)
        yield AIMessageChunk(content="", response_metadata=metadata)
        if usage is not None:
            yield AIMessageChunk(content="", usage_metadata=usage)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self.calls.append({"messages": list(messages), "kwargs": kwargs})
        outcome = "interrupted"
        try:
            delay = self.first_token_delay
            for chunk in self._chunks(messages):
                if chunk.content:
                    await asyncio.sleep(delay)
                    delay = self.token_delay
                    self.token_times.append(time.monotonic())
                yield ChatGenerationChunk(message=chunk)
            outcome = "completed"
        finally:
            self.finished.append(outcome)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self.calls.append({"messages": list(messages), "kwargs": kwargs})
        outcome = "interrupted"
        try:
            delay = self.first_token_delay
            for chunk in self._chunks(messages):
                if chunk.content:
                    time.sleep(delay)
                    delay = self.token_delay
                    self.token_times.append(time.monotonic())
                yield ChatGenerationChunk(message=chunk)
            outcome = "completed"
        finally:
            self.finished.append(outcome)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        total = AIMessageChunk(content="")
        for generation in self._stream(messages, stop, run_manager, **kwargs):
            chunk = generation.message
            assert isinstance(chunk, AIMessageChunk)
            total = total + chunk
        message = AIMessage(
            content=total.content,
            tool_calls=total.tool_calls,
            usage_metadata=total.usage_metadata,
            response_metadata=total.response_metadata,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


class ScriptedToolModel(ScriptedChatModel):
    """A `ScriptedChatModel` that plays `turns` in order: a call whose input holds n AI
    messages gets turn n (text streamed word by word, then its tool calls in one chunk), so the
    same script drives any tool loop that sends the history back. Past the script it replies
    `"(done)"`.

    It waits `first_token_delay` seconds, then `token_delay` between tokens, and records the
    tool names bound to each call in `bound_tools`.
    """

    turns: list[AIMessage]
    reply: str = ""
    """Unused: the turns are the script."""
    first_token_delay: float = Field(default=0.0, ge=0)
    token_delay: float = Field(default=0.0, ge=0)
    model: str = "scripted-tool-model"
    bound_tools: list[list[str]] = Field(default_factory=list, repr=False)
    """One entry per call: the names of the tools it was given (empty when none)."""
    inputs: list[list[BaseMessage]] = Field(default_factory=list, repr=False)
    """One entry per call: the messages it was given."""

    @property
    def _llm_type(self) -> str:
        return "scripted-tools"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind the tools' OpenAI schemas; the script decides the calls, the names are kept."""
        schemas = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=schemas, **kwargs)

    def _turn(self, messages: list[BaseMessage]) -> AIMessage:
        self.inputs.append(list(messages))
        done = sum(isinstance(message, AIMessage) for message in messages)
        return self.turns[done] if done < len(self.turns) else AIMessage(content="(done)")

    def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self._note_tools(kwargs)
        return super()._astream(messages, stop, run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._note_tools(kwargs)
        return super()._stream(messages, stop, run_manager, **kwargs)

    def _note_tools(self, kwargs: dict[str, Any]) -> None:
        self.bound_tools.append([tool["function"]["name"] for tool in kwargs.get("tools") or []])

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[AIMessageChunk]:
        turn = self._turn(messages)
        tokens = split_into_tokens(turn.text)
        for token in tokens:
            yield AIMessageChunk(content=token)
        yield AIMessageChunk(
            content="",
            tool_call_chunks=[
                tool_call_chunk(
                    name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index
                )
                for index, call in enumerate(turn.tool_calls)
            ],
            usage_metadata=self._usage(messages, len(tokens)),
            response_metadata={
                "model_name": self.model,
                "finish_reason": "tool_calls" if turn.tool_calls else "stop",
            },
            chunk_position="last",
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
