"""The run behind `MiniAgent`'s LangChain Runnable face: one traced run of an agent tree.

`astream()` runs the whole agent tree in one producer task of the run and yields one
continuous stream of `AIMessageChunk`s across every reply message, in reply order. A chunk
carries every token that was already buffered when the consumer asked for it: one token per
chunk while the consumer keeps up, more when it falls behind, and never a wait to batch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Protocol, cast

from langchain_core.callbacks import AsyncCallbackManagerForChainRun
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    InvalidToolCall,
    ToolCall,
    ToolCallChunk,
)
from langchain_core.messages.ai import UsageMetadata, add_usage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import (
    ensure_config,
    get_async_callback_manager_for_config,
    patch_config,
    var_child_runnable_config,
)

from miniagents_lc._compat import in_langgraph_v3_stream, streaming_callback_handler
from miniagents_lc.agents.conversion import (
    additional_kwargs_of,
    input_to_messages,
    response_metadata_of,
    usage_of,
)
from miniagents_lc.agents.error_text import ErrorText, error_message_of, error_metadata, text_runs
from miniagents_lc.agents.instruments import (
    enter_run_scope,
    instrumented,
    merged,
    notify,
    scoped_instruments,
)
from miniagents_lc.agents.run_records import (
    USAGE_KEY,
    ReplyRecord,
    RunRecorder,
    usage_breakdown,
)
from miniagents_lc.messages import (
    MESSAGE_SEPARATOR,
    AssistantMessage,
    MessagePromise,
    MessageType,
    thaw,
)
from miniagents_lc.promising import PromisingContext, StreamCancelledError, StreamCursor
from miniagents_lc.promising.lowlevel import StreamBuffer, cancel_and_wait, open_task_scope

if TYPE_CHECKING:
    from miniagents_lc.agents.call import AgentCall


class RunnableAgent(Protocol):
    """What a run needs of its root agent (a `MiniAgent`): its name, the root call a run
    starts, and the context a run opens when none is active. Written as a protocol so that
    this module, which `MiniAgent` is built on, does not import it back."""

    @property
    def alias(self) -> str: ...

    def get_name(self, suffix: str | None = None, *, name: str | None = None) -> str: ...

    def _trigger_for_run(
        self, messages: MessageType, run_config: RunnableConfig, **kwargs: Any
    ) -> AgentCall: ...

    def _new_context(self) -> PromisingContext: ...


async def traced_run(
    agent: RunnableAgent,
    input: Any,
    config: RunnableConfig | None,
    kwargs: dict[str, Any],
    *,
    want_chunks: bool,
    result: list[AIMessage],
) -> AsyncGenerator[AIMessageChunk, None]:
    """One traced run of `agent` (its `astream` and `ainvoke`); yields chunks only when asked
    to or when a stream handler (astream_events, astream_log) needs them, and appends the
    whole reply to `result`."""
    run, run_manager = await start_traced_run(agent, input, config, kwargs, adopt_reply_id=True)
    stream_handler = streaming_callback_handler(run_manager.handlers)
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


async def start_traced_run(
    agent: RunnableAgent,
    input: Any,
    config: RunnableConfig | None,
    kwargs: dict[str, Any],
    *,
    adopt_reply_id: bool = False,
    keep_records: bool = False,
) -> tuple[AgentRun, AsyncCallbackManagerForChainRun]:
    """The one way a face of an agent starts a traced run: the chain run its callbacks see
    (named by the config's `run_name` or the agent, with the config's `run_id`), and the
    `AgentRun` under it (not started yet), whose reply is the message `lc_run-{run id}`
    unless `adopt_reply_id` lets the reply's first model message lend its id (`keep_records`:
    see `AgentRun`). The caller ends the chain run (`on_chain_end`/`on_chain_error`) and
    closes the run."""
    messages = input_to_messages(input)
    config = ensure_config(config)
    callback_manager = get_async_callback_manager_for_config(config)
    run_manager = await callback_manager.on_chain_start(
        None,
        {"input": input},
        name=config.get("run_name") or agent.get_name(),
        run_id=config.pop("run_id", None),
    )
    run = AgentRun(
        agent,
        messages,
        patch_config(config, callbacks=run_manager.get_child()),
        kwargs,
        message_id=f"lc_run-{run_manager.run_id}",
        adopt_reply_id=adopt_reply_id,
        keep_records=keep_records,
    )
    return run, run_manager


def combine(left: Any, right: Any) -> Any:
    """`left + right` where the type supports it (messages, chunks, str), else a list."""
    try:
        return left + right
    except TypeError:
        return [*left, right] if isinstance(left, list) else [left, right]


class AgentRun:
    """One running agent call tree: the public handle every face of an agent starts its runs
    through (the Runnable face's `astream`/`ainvoke`, the v3 event stream, the LangChain chat
    model, the transports).

    A producer task reads the root call's replies and pushes their text into `text` (a buffer
    any number of readers can follow), gathering the reply's usage, tool calls and response
    metadata as each message ends; the consumer side turns what is buffered into chunks. The
    run starts on `start()` (or on the first read) and `output()` gives the whole reply as one
    `AIMessage`; `cancel()`/`aclose()` stop it, and `done` says whether it has ended.
    `root_call` is the root `AgentCall` once the producer has made it.

    With `keep_records=True`, or when the config asks for the usage by agent call
    (`configurable={"usage_by_agent": True}`), the run follows its calls through the instrument
    seam and keeps `records`: one `ReplyRecord` per message its calls produced (which call, its
    path in the tree, its usage); with the config switch, the final `response_metadata` also
    carries `usage_by_agent()` under `"usage_by_agent"`. Other runs pay nothing for it.

    Inside a LangGraph v3 stream (`graph.astream_events(..., version="v3")`) the run adds the
    protocol's mapping of its calls into that stream as an instrument of its scope.
    """

    def __init__(
        self,
        agent: RunnableAgent,
        messages: MessageType,
        config: RunnableConfig,
        kwargs: dict[str, Any],
        *,
        message_id: str | None = None,
        adopt_reply_id: bool = False,
        keep_records: bool = False,
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
        self.additional_kwargs: dict[str, Any] = {}  # a refusal, say
        self.tool_calls: list[ToolCall] = []
        self.invalid_tool_calls: list[InvalidToolCall] = []
        self._task: asyncio.Task[None] | None = None
        self._root_call: AgentCall | None = None
        configurable = config.get("configurable")
        self._usage_wanted = bool(configurable and configurable.get(USAGE_KEY))
        self._keep_records = keep_records or self._usage_wanted
        self._recorder: RunRecorder | None = None

    @property
    def agent(self) -> RunnableAgent:
        """The root agent of the run."""
        return self._agent

    @property
    def config(self) -> RunnableConfig:
        """The run's LangChain config (what every agent call of the run inherits)."""
        return self._config

    @property
    def root_call(self) -> AgentCall | None:
        """The root agent call, made by the run's producer as it starts; `None` before that
        (before `start()` and the producer's first step), and for good if the run was cancelled
        before it began."""
        return self._root_call

    @property
    def records(self) -> list[ReplyRecord]:
        """The messages the run's calls produced, one `ReplyRecord` each, in the order they
        ended (so far, while the run goes on). Only a run that keeps records has them: a
        `RuntimeError` says how to ask otherwise."""
        if not self._keep_records:
            raise RuntimeError(
                "This run keeps no records: start it with keep_records=True (AgentRun, "
                "start_traced_run) or with config={'configurable': {'usage_by_agent': True}}."
            )
        recorder = self._recorder
        return list(recorder.records) if recorder is not None else []

    def usage_by_agent(self) -> list[dict[str, Any]]:
        """The usage of each call of the run's tree, from its records (see
        `run_records.usage_breakdown`): empty before the root call is made."""
        self.records  # noqa: B018 - raises for a run that keeps none
        root = self._recorder.root if self._recorder is not None else None
        return usage_breakdown(root) if root is not None else []

    @property
    def done(self) -> bool:
        """Whether the run's producer has ended (its text has ended too, then)."""
        return self._task is not None and self._task.done()

    def start(self) -> None:
        """Start the run's producer task (once; reading the run starts it too)."""
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
            for text in text_runs(batch):
                yield text

    async def chunks(self) -> AsyncGenerator[AIMessageChunk, None]:
        async with aclosing(self.text_batches()) as batches:
            async for text in batches:
                # Read per chunk: the id is settled before the first text is buffered.
                yield AIMessageChunk(
                    content=text, id=self.message_id, response_metadata=error_metadata([text])
                )
        yield self._last_chunk()

    def _last_chunk(self) -> AIMessageChunk:
        return AIMessageChunk(
            content="",
            id=self.message_id,
            usage_metadata=self.usage,
            response_metadata=self.response_metadata,
            additional_kwargs=self.additional_kwargs,
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
            response_metadata={**self.response_metadata, **error_metadata(self.text.pieces)},
            additional_kwargs=self.additional_kwargs,
            tool_calls=self.tool_calls,
            invalid_tool_calls=self.invalid_tool_calls,
        )

    async def _relay_text(self, message_promise: MessagePromise, *, adopt_id: bool) -> None:
        """Push the message's text into `text` until the message ends. What arrives while this
        waits is pushed from the step that produced it (`StreamCursor.wait`), so a token
        reaches the run's reader without a turn of this task in between; what piled up
        meanwhile is pushed as one batch when this task runs."""
        cursor = message_promise.cursor()
        text = self.text

        def push_arrived() -> None:
            nonlocal adopt_id
            batch = cursor.read_nowait()  # raises the message's error where it stands
            if adopt_id and (batch or cursor.at_end):
                # Before the first text: the reply's id is settled by its first chunk.
                self._adopt_id_of(message_promise)
                adopt_id = False
            if batch:
                text.push(batch[0] if len(batch) == 1 else "".join(batch))

        push_arrived()
        while not cursor.at_end:
            await cursor.wait(push_arrived)
            push_arrived()
        cursor.read_nowait()  # past the last text: raises the message's error, if it ended so

    def _adopt_id_of(self, first: MessagePromise) -> None:
        """Take the id of the reply's first message, if its model gave it one by its first
        token: the id under which that model's run streamed it, so that whoever saw those
        tokens (LangGraph's "messages" stream mode, say) knows the run's whole reply as the
        same message rather than a new one."""
        reply_id = first.fields.get("id")
        if isinstance(reply_id, str) and reply_id:
            self.message_id = reply_id

    async def output(self) -> AIMessage:
        """Run to the end and return the whole reply as one `AIMessage` (raises the run's
        error)."""
        await self.await_text()
        return self.final_message()

    async def wait(self) -> None:
        """Wait until the run's producer has stopped (ended, failed or cancelled: this never
        raises the run's error) and with it the work of its agents."""
        if self._task is not None:
            await asyncio.wait([self._task])

    def cancel(self) -> None:
        """Ask the run to stop (its agents are cancelled; `aclose` also waits for that)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def aclose(self) -> None:
        """Cancel the run's work if it is still going and wait until it has stopped."""
        task = self._task
        if task is None:
            return
        if not task.done():
            task.cancel()
        await asyncio.wait([task])

    async def _produce(self) -> None:
        if not in_langgraph_v3_stream(self._config):
            await self._produce_run()
            return
        # Upward on purpose, and only inside a LangGraph v3 stream: mapping the run's calls into
        # that stream is the protocol layer's work, done by an instrument of this run's scope
        # (listed in tests/test_layers.py).
        from miniagents_lc.protocol import graph_instrument

        mapping = graph_instrument(self._config)
        if mapping is None:
            await self._produce_run()
            return
        try:
            with instrumented(mapping):
                await self._produce_run()
        finally:
            # Also when the run is cancelled once its reply has ended: what was produced still
            # reaches the graph's stream.
            await mapping.close()

    async def _produce_run(self) -> None:
        # This task's Context is the run's: everything it starts inherits the run's config.
        var_child_runnable_config.set(self._config)
        outer = PromisingContext.get_current_or_none()
        # The run's own instruments (its config's, and its recorder) join the scope its calls
        # are created in.
        if self._keep_records:
            self._recorder = RunRecorder()
        enter_run_scope(self._config, self._recorder)
        active = outer is not None and outer.is_active
        own = getattr(outer, "instruments", ()) if active else ()
        instruments = merged(own, scoped_instruments())
        ended: BaseException | None = None
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
            ended = error
            self.text.end(error)
        except asyncio.CancelledError as error:
            ended = error
            self.text.end(StreamCancelledError("The agent run was cancelled before the end."))
            raise
        else:
            self.text.end()
        finally:
            if self._recorder is not None:
                self._recorder.closed = True
            if instruments:
                notify(instruments, "run_finished", self._agent, self.usage, ended)

    async def _pump(self) -> None:
        root = self._agent._trigger_for_run(self._messages, self._config, **self._kwargs)
        self._root_call = root
        replies = root.reply_sequence()
        text = self.text
        first = True
        async for message_promise in replies:
            if not first:
                text.push(MESSAGE_SEPARATOR)
            error = error_message_of(message_promise)
            if error is not None:
                text.push(ErrorText(error))
                first = False
                continue
            await self._relay_text(message_promise, adopt_id=first and self._adopt_reply_id)
            first = False
            message = await message_promise
            usage = usage_of(message)
            if usage is not None:
                self.usage = usage if self.usage is None else add_usage(self.usage, usage)
            if isinstance(message, AssistantMessage):
                self.tool_calls.extend(thaw(message.tool_calls))
                self.invalid_tool_calls.extend(thaw(message.invalid_tool_calls))
            # As a chat model's: why the reply ended, and which model wrote its end.
            self.response_metadata = response_metadata_of(message) or self.response_metadata
            self.additional_kwargs.update(additional_kwargs_of(message))
        # The consumer may now finish while the context (if the run owns it) still waits for
        # background work; the end of the text is the end of the reply.
        if self._usage_wanted:
            self.response_metadata = {**self.response_metadata, USAGE_KEY: self.usage_by_agent()}
        text.end()


__all__ = [
    "AgentRun",
    "RunnableAgent",
    "combine",
    "start_traced_run",
    "traced_run",
]
