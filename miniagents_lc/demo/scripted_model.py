"""`ScriptedChatModel`: an embedded chat model that streams a scripted reply with realistic
token timing, so the demo and tests run offline with no API key."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

_TOKEN = re.compile(r"\s*\S+")


def split_into_tokens(text: str) -> list[str]:
    """Word-sized tokens that join back into `text` exactly (leading spaces kept)."""
    tokens = _TOKEN.findall(text)
    rest = text[sum(map(len, tokens)) :]
    if rest:
        tokens.append(rest)
    return tokens


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers every call with `reply`, streamed word by word: it waits
    `first_token_delay` seconds (the model "thinking"), then `token_delay` between tokens.

    Usage is reported like a real model's: prompt words in, reply tokens out.
    """

    model: str = "scripted-demo-model"
    reply: str
    first_token_delay: float = Field(default=0.3, ge=0)
    token_delay: float = Field(default=0.03, ge=0)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _usage(self, messages: list[BaseMessage], output_tokens: int) -> dict[str, int]:
        input_tokens = sum(len(message.text.split()) for message in messages)
        return {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }

    def _chunks(self, messages: list[BaseMessage]) -> Iterator[AIMessageChunk]:
        tokens = split_into_tokens(self.reply)
        for token in tokens:
            yield AIMessageChunk(content=token)
        yield AIMessageChunk(
            content="",
            usage_metadata=self._usage(messages, len(tokens)),  # type: ignore[arg-type]
            response_metadata={"model_name": self.model, "finish_reason": "stop"},
            chunk_position="last",
        )

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        await asyncio.sleep(self.first_token_delay)
        first = True
        for chunk in self._chunks(messages):
            if not first and chunk.content:
                await asyncio.sleep(self.token_delay)
            first = False
            yield ChatGenerationChunk(message=chunk)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        time.sleep(self.first_token_delay)
        first = True
        for chunk in self._chunks(messages):
            if not first and chunk.content:
                time.sleep(self.token_delay)
            first = False
            yield ChatGenerationChunk(message=chunk)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        total: AIMessageChunk | None = None
        for generation in self._stream(messages, stop, run_manager, **kwargs):
            chunk = generation.message
            assert isinstance(chunk, AIMessageChunk)
            total = chunk if total is None else total + chunk
        assert total is not None
        message = AIMessage(
            content=total.content,
            usage_metadata=total.usage_metadata,
            response_metadata=total.response_metadata,
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


__all__ = [
    "ScriptedChatModel",
    "split_into_tokens",
]
