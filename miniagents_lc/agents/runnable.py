"""`AgentRunnable`: the LangChain Runnable face of every agent.

`astream()` runs the whole agent tree in one producer task of the run and yields one
continuous stream of `AIMessageChunk`s across every reply message, in reply order. A chunk
carries every token that was already buffered when the consumer asked for it: one token per
chunk while the consumer keeps up, more when it falls behind, and never a wait to batch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing
from typing import Any, Literal, cast

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
)
from langchain_core.messages.ai import UsageMetadata, add_usage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import (
    ensure_config,
    get_async_callback_manager_for_config,
    patch_config,
    var_child_runnable_config,
)
from langchain_core.tracers._streaming import _StreamingCallbackHandler

from miniagents_lc.agents.conversion import input_to_messages, response_metadata_of, usage_of
from miniagents_lc.messages import (
    AssistantMessage,
    MessagePromise,
    MessageSequencePromise,
    MessageType,
    thaw,
)
from miniagents_lc.promising import PromisingContext, StreamCancelledError, StreamCursor
from miniagents_lc.promising.context import cancel_and_wait, open_task_scope
from miniagents_lc.promising.stream_buffer import StreamBuffer

MESSAGE_SEPARATOR = "\n\n"


class AgentRunnable(Runnable[Any, AIMessage]):
    """A Runnable whose output is the agent's whole reply as one `AIMessage` (reply messages
    joined by a blank line) and whose `astream()` streams it token by token.

    Input: str (a user message), a LangChain message or list of them, a PromptValue, or
    anything of `MessageType`. Without an active `MiniAgents` context, each run makes one and
    closes it when the stream ends; a consumer that stops early cancels the run's tasks.
    """

    alias: str
    name: str | None

    # -- what the agent class provides ----------------------------------------------------

    def _trigger_for_run(
        self, messages: MessageType, run_config: RunnableConfig, **kwargs: Any
    ) -> MessageSequencePromise:
        raise NotImplementedError

    def _new_context(self) -> PromisingContext:
        raise NotImplementedError

    # -- Runnable -------------------------------------------------------------------------

    @property
    def InputType(self) -> type[Any]:
        return cast(type[Any], Any)

    @property
    def OutputType(self) -> type[AIMessage]:
        return AIMessage

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str:
        base = name or self.alias
        return f"{base}{suffix}" if suffix else base

    async def astream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncGenerator[AIMessageChunk, None]:
        """Stream the reply of the whole agent tree as `AIMessageChunk`s sharing one id."""
        async with aclosing(
            self._arun(input, config, kwargs, want_chunks=True, result=[])
        ) as chunks:
            async for chunk in chunks:
                yield chunk

    async def _arun(
        self,
        input: Any,
        config: RunnableConfig | None,
        kwargs: dict[str, Any],
        *,
        want_chunks: bool,
        result: list[AIMessage],
    ) -> AsyncGenerator[AIMessageChunk, None]:
        """One traced run; yields chunks only when asked to or when a stream handler
        (astream_events, astream_log) needs them, and appends the whole reply to `result`."""
        messages = input_to_messages(input)
        config = ensure_config(config)
        callback_manager = get_async_callback_manager_for_config(config)
        run_manager = await callback_manager.on_chain_start(
            None,
            {"input": input},
            name=config.get("run_name") or self.get_name(),
            run_id=config.pop("run_id", None),
        )
        run = _AgentRun(
            self,
            messages,
            patch_config(config, callbacks=run_manager.get_child()),
            kwargs,
            message_id=f"lc_run-{run_manager.run_id}",
            adopt_reply_id=True,
        )
        stream_handler = next(
            (h for h in run_manager.handlers if isinstance(h, _StreamingCallbackHandler)), None
        )
        try:
            if want_chunks or stream_handler is not None:
                chunks = run.chunks()
                if stream_handler is not None:
                    chunks = cast(
                        AsyncGenerator[AIMessageChunk, None],
                        stream_handler.tap_output_aiter(run_manager.run_id, chunks),
                    )
                async with aclosing(chunks):
                    async for chunk in chunks:
                        yield chunk
            else:
                await run.await_text()
            final = run.final_message()
        except BaseException as error:
            await run.aclose()
            await run_manager.on_chain_error(error)
            raise
        await run.aclose()
        result.append(final)
        await run_manager.on_chain_end(final)

    async def atransform(
        self,
        input: AsyncIterator[Any],
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[AIMessageChunk, None]:
        """Gather the upstream output (summed with `+` where it supports it), then stream."""
        gathered: Any = None
        async for item in input:
            gathered = item if gathered is None else _combine(gathered, item)
        async with aclosing(self.astream(gathered, config, **kwargs)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> AIMessage:
        """The whole reply as one `AIMessage`, equal to the sum of `astream()`'s chunks."""
        result: list[AIMessage] = []
        async with aclosing(
            self._arun(input, config, kwargs, want_chunks=False, result=result)
        ) as chunks:
            async for _chunk in chunks:
                pass
        return result[0]

    # -- streaming protocol v3: the agent tree as protocol events (miniagents_lc.protocol) ----

    def astream_events(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v1", "v2", "v3"] = "v2",
        **kwargs: Any,
    ) -> Any:
        """With `version="v3"`, an awaitable of the run's `AgentRunStream` (protocol events,
        one namespace per agent call); otherwise LangChain's own event stream."""
        if version == "v3":
            from miniagents_lc.protocol.run_stream import astream_agent_events

            return astream_agent_events(self, input, config, **kwargs)
        return super().astream_events(input, config, version=version, **kwargs)

    def stream_events(
        self,
        input: Any,
        config: RunnableConfig | None = None,
        *,
        version: Literal["v1", "v2", "v3"] = "v2",
        **kwargs: Any,
    ) -> Any:
        """With `version="v3"`, the run's `SyncAgentRunStream` (the same events, from sync
        code); other versions are LangChain's (which has no sync v1/v2)."""
        if version == "v3":
            from miniagents_lc.protocol.sync_run import SyncAgentRunStream

            return SyncAgentRunStream(self, input, config, kwargs)
        return super().stream_events(input, config, version=version, **kwargs)

    # -- end of streaming protocol v3 ----------------------------------------------------------

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> AIMessage:
        from miniagents_lc.agents.sync_bridge import run_sync

        return run_sync(self.ainvoke(input, config, **kwargs))

    def stream(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[AIMessageChunk]:
        from miniagents_lc.agents.sync_bridge import iterate_sync

        return iterate_sync(lambda: self.astream(input, config, **kwargs))


def _combine(left: Any, right: Any) -> Any:
    try:
        return left + right
    except TypeError:
        return [*left, right] if isinstance(left, list) else [left, right]


class _AgentRun:
    """One run of an agent tree: a producer task that reads the replies and pushes text into a
    buffer, and the consumer side that turns what is buffered into chunks."""

    def __init__(
        self,
        agent: AgentRunnable,
        messages: MessageType,
        config: RunnableConfig,
        kwargs: dict[str, Any],
        *,
        message_id: str | None = None,
        adopt_reply_id: bool = False,
    ) -> None:
        self._agent = agent
        self._adopt_reply_id = adopt_reply_id
        self._messages = messages
        self._config = config
        self._kwargs = kwargs
        self.message_id = message_id
        self.text: StreamBuffer[str] = StreamBuffer()
        self.usage: UsageMetadata | None = None
        self.response_metadata: dict[str, Any] = {}
        self.tool_calls: list[ToolCall] = []
        self.invalid_tool_calls: list[InvalidToolCall] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._produce(), name=f"miniagents-run:{self._agent.alias}"
            )

    async def text_batches(self) -> AsyncGenerator[str, None]:
        """The reply's text as it streams: all that was buffered since the previous batch,
        joined; raises the run's error at its position."""
        self.start()
        cursor: StreamCursor[str] = StreamCursor(self.text)
        while batch := await cursor.read():
            yield batch[0] if len(batch) == 1 else "".join(batch)

    async def chunks(self) -> AsyncGenerator[AIMessageChunk, None]:
        async with aclosing(self.text_batches()) as batches:
            async for text in batches:
                # Read per chunk: the id is settled before the first text is buffered.
                yield AIMessageChunk(content=text, id=self.message_id)
        yield self._last_chunk()

    def _last_chunk(self) -> AIMessageChunk:
        return AIMessageChunk(
            content="",
            id=self.message_id,
            usage_metadata=self.usage,
            response_metadata=self.response_metadata,
            tool_call_chunks=self.tool_call_chunks(),
            chunk_position="last",
        )

    def tool_call_chunks(self) -> list[ToolCallChunk]:
        """The tool calls of every reply message as chunks of one last chunk: summed, they
        give back `tool_calls` (and the invalid calls, whose raw arguments do not parse)."""
        chunks = [
            tool_call_chunk(
                name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=index
            )
            for index, call in enumerate(self.tool_calls)
        ]
        offset = len(chunks)
        chunks.extend(
            tool_call_chunk(name=call["name"], args=call["args"], id=call["id"], index=offset + i)
            for i, call in enumerate(self.invalid_tool_calls)
        )
        return chunks

    async def await_text(self) -> None:
        """Run to the end of the reply without building chunks; raises the run's error."""
        self.start()
        cursor: StreamCursor[str] = StreamCursor(self.text)
        while await cursor.read():
            pass

    def final_message(self) -> AIMessage:
        """The run's whole reply, built once from the buffered text."""
        return AIMessage(
            content="".join(self.text.pieces),
            id=self.message_id,
            usage_metadata=self.usage,
            response_metadata=self.response_metadata,
            tool_calls=self.tool_calls,
            invalid_tool_calls=self.invalid_tool_calls,
        )

    def _adopt_id_of(self, first: MessagePromise) -> None:
        """Take the id of the reply's first message, if its model gave it one by its first
        token: the id under which that model's run streamed it, so that whoever saw those
        tokens (LangGraph's "messages" stream mode, say) knows the run's whole reply as the
        same message rather than a new one."""
        reply_id = first.fields.get("id")
        if isinstance(reply_id, str) and reply_id:
            self.message_id = reply_id

    async def aclose(self) -> None:
        """Cancel the run's work if it is still going and wait until it has stopped."""
        task = self._task
        if task is None:
            return
        if not task.done():
            task.cancel()
        await asyncio.wait([task])

    async def _produce(self) -> None:
        # -- protocol hook: a LangGraph v3 stream around this run sees its agent calls --
        from miniagents_lc.protocol.graph import graph_events

        async with graph_events(self._config):
            await self._produce_run()
        # -- end of hook --

    async def _produce_run(self) -> None:
        # This task's Context is the run's: everything it starts inherits the run's config.
        var_child_runnable_config.set(self._config)
        outer = PromisingContext.get_current_or_none()
        try:
            if outer is not None and outer.is_active:
                scope = open_task_scope()
                try:
                    await self._pump()
                except asyncio.CancelledError:
                    await cancel_and_wait(scope)
                    raise
            else:
                async with self._agent._new_context():
                    await self._pump()
        except Exception as error:
            self.text.end(error)
        except asyncio.CancelledError:
            self.text.end(StreamCancelledError("The agent run was cancelled before the end."))
            raise
        else:
            self.text.end()

    async def _pump(self) -> None:
        replies = self._agent._trigger_for_run(self._messages, self._config, **self._kwargs)
        text = self.text
        first = True
        async for message_promise in replies:
            if not first:
                text.push(MESSAGE_SEPARATOR)
            cursor = message_promise.cursor()
            batch = await cursor.read()
            if first and self._adopt_reply_id:
                self._adopt_id_of(message_promise)
            first = False
            while batch:
                text.push(batch[0] if len(batch) == 1 else "".join(batch))
                batch = await cursor.read()
            message = await message_promise
            usage = usage_of(message)
            if usage is not None:
                self.usage = usage if self.usage is None else add_usage(self.usage, usage)
            if isinstance(message, AssistantMessage):
                self.tool_calls.extend(thaw(message.tool_calls))
                self.invalid_tool_calls.extend(thaw(message.invalid_tool_calls))
            # As a chat model's: why the reply ended, and which model wrote its end.
            self.response_metadata = response_metadata_of(message) or self.response_metadata
        # The consumer may now finish while the context (if the run owns it) still waits for
        # background work; the end of the text is the end of the reply.
        text.end()
