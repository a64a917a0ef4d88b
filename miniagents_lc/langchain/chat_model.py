"""`MiniAgentChatModel`: a `MiniAgent` wherever LangChain expects a chat model.

Being a real `BaseChatModel` is what makes an agent's tokens show in LangGraph's
`stream_mode="messages"` and as `on_chat_model_stream` events.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from contextlib import aclosing
from typing import Any, Self

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    BaseCallbackHandler,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config
from langchain_core.tools import BaseTool
from langchain_core.tracers.base import AsyncBaseTracer, BaseTracer
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import model_validator

from miniagents_lc.agents import AgentRun, MiniAgent
from miniagents_lc.agents.lowlevel import error_metadata, iterate_sync
from miniagents_lc.messages import Message, message_from_langchain

_KNOWN_ROLES = frozenset({"user", "human", "assistant", "ai", "system", "developer", "tool"})


class MiniAgentChatModel(BaseChatModel):
    """A chat model whose replies come from `agent`: the input messages are sent to the agent
    and its whole reply (every message, "\\n\\n" between them) streams back as one AI message.

    `model` names the agent for tracing (`ls_model_name`) and defaults to its alias. Call
    kwargs reach the agent function, and so do stop sequences (the call's, else `stop`), as the
    kwarg `stop=`. To callbacks a call is one chat-model run; tracers see the agent's runs
    nested under it.
    """

    agent: MiniAgent
    """The agent that answers."""

    model: str = ""
    """The model name reported in traces and `response_metadata`; the agent alias if empty."""

    stop: list[str] | None = None
    """Stop sequences for calls that give none: they reach the agent as the kwarg `stop=`."""

    @model_validator(mode="after")
    def _name_model_after_agent(self) -> Self:
        if not self.model:
            self.model = self.agent.alias
        return self

    @property
    def _llm_type(self) -> str:
        return "miniagent"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "agent": self.agent.alias}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "miniagents"
        return params

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """This model with `tools` (as OpenAI tool schemas) and `tool_choice` bound: they reach
        the agent as the call kwargs `tools=` and `tool_choice=`, which an agent built with
        `chat_model_agent` binds to its own model."""
        schemas = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=schemas, **kwargs)

    # -- async ----------------------------------------------------------------------------

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[ChatGenerationChunk, None]:
        config = _agent_config(run_manager)
        kwargs = self._agent_kwargs(stop, kwargs)
        async with aclosing(self._achunks(messages, config, kwargs)) as chunks:
            async for chunk in chunks:
                if run_manager is not None:
                    await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
                yield chunk

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        config = _agent_config(run_manager)
        kwargs = self._agent_kwargs(stop, kwargs)
        async with aclosing(self._achunks(messages, config, kwargs)) as chunks:
            collected = [chunk async for chunk in chunks]
        return generate_from_stream(iter(collected))

    async def _achunks(
        self, messages: Sequence[BaseMessage], config: RunnableConfig, kwargs: dict[str, Any]
    ) -> AsyncGenerator[ChatGenerationChunk, None]:
        """One run of the agent as chat-generation chunks: one per batch of text, then a last
        chunk with the usage and response metadata."""
        run = AgentRun(self.agent, self._agent_input(messages), config, kwargs)
        try:
            async with aclosing(run.text_batches()) as batches:
                async for text in batches:
                    yield ChatGenerationChunk(
                        message=AIMessageChunk(
                            content=text, response_metadata=error_metadata([text])
                        )
                    )
            yield ChatGenerationChunk(
                message=AIMessageChunk(
                    content="",
                    usage_metadata=run.usage,
                    response_metadata={**run.response_metadata, "model_name": self.model},
                    additional_kwargs=run.additional_kwargs,
                    tool_call_chunks=run.tool_call_chunks(),
                    chunk_position="last",
                )
            )
        finally:
            await run.aclose()

    def _agent_kwargs(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The call kwargs the agent gets: the call's, with its stop sequences if it has any."""
        stop = stop or self.stop
        return {**kwargs, "stop": stop} if stop else kwargs

    def _agent_input(self, messages: Sequence[BaseMessage]) -> list[Message]:
        converted = [message_from_langchain(message) for message in messages]
        for message in converted:
            if message.role not in _KNOWN_ROLES:
                raise ValueError(
                    f"MiniAgentChatModel can't pass a message with role {message.role!r} to "
                    f"agent {self.agent.alias!r}: the roles it takes are user, assistant, "
                    "system and tool."
                )
        return converted

    # -- sync -----------------------------------------------------------------------------

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        config = _agent_config(run_manager)
        kwargs = self._agent_kwargs(stop, kwargs)
        for chunk in iterate_sync(lambda: self._achunks(messages, config, kwargs)):
            if run_manager is not None:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        config = _agent_config(run_manager)
        kwargs = self._agent_kwargs(stop, kwargs)
        return generate_from_stream(iterate_sync(lambda: self._achunks(messages, config, kwargs)))


def _agent_config(
    run_manager: AsyncCallbackManagerForLLMRun | CallbackManagerForLLMRun | None,
) -> RunnableConfig:
    """The config the agent runs with: the caller's, its callbacks those of this model's run
    narrowed to its tracers. To every other handler (usage counters, LangGraph's message
    stream, `astream_events`) the call is one chat-model run that already reports the agent's
    text and usage; tracers, which build trees, see the agent's runs nested under it."""
    config = ensure_config()
    if run_manager is None:
        config["callbacks"] = None
        return config
    tracers: list[BaseCallbackHandler] = [
        handler
        for handler in run_manager.inheritable_handlers
        if isinstance(handler, BaseTracer | AsyncBaseTracer)
    ]
    config["callbacks"] = CallbackManager(
        handlers=tracers,
        inheritable_handlers=tracers,
        parent_run_id=run_manager.run_id,
        tags=run_manager.inheritable_tags,
        inheritable_tags=run_manager.inheritable_tags,
        metadata=run_manager.inheritable_metadata,
        inheritable_metadata=run_manager.inheritable_metadata,
    )
    return config


__all__ = ["MiniAgentChatModel"]
