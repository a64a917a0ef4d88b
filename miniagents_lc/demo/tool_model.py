"""`ScriptedToolModel`: an offline chat model that calls tools on a script, so tool loops (the
demo's, the examples', the tests' and the benchmark's) run with no API key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from miniagents_lc.demo.scripted_model import ScriptedChatModel, split_into_tokens

__all__ = ["ScriptedToolModel"]


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
