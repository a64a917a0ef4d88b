"""`AgentTool`: a `MiniAgent` as a LangChain tool, with a typed args schema and a text result."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import ensure_config
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from miniagents_lc._compat import langgraph_tool_writer
from miniagents_lc.agents.current import current_interaction
from miniagents_lc.agents.instruments import observe_tool_call
from miniagents_lc.messages import Message, MessageSequencePromise

# Runs tagged so stay out of LangGraph's "messages" stream mode: the tool streams its
# sub-agent's tokens on the tool output stream instead of a second time there.
_NOSTREAM_TAG = "nostream"

__all__ = ["AgentRequest", "AgentTool", "agent_as_tool"]


class AgentRequest(BaseModel):
    """The default arguments of an agent used as a tool: one request in plain words."""

    request: str = Field(description="What to ask the agent, as a self-contained request.")


class AgentTool(BaseTool):
    """An agent as a tool: the call's arguments become one user message to the agent, and its
    whole reply text (messages joined by a blank line) is the tool's result.

    One string argument is sent as it is; several arguments are sent as their JSON. Inside a
    LangGraph run with the `"tools"` stream mode the agent's tokens stream as the call's
    `tool-output-delta` events while it runs, after those of the agent tool calls started
    before it in the same graph step (call order), and its models stay out of the
    `"messages"` stream mode.
    """

    agent: Any
    """The `MiniAgent` that answers (typed loosely: agents are not pydantic models)."""

    args_schema: type[BaseModel] = AgentRequest

    def request_message(self, args: dict[str, Any]) -> Message:
        """The user message the agent gets for these tool-call arguments."""
        values = list(args.values())
        if len(values) == 1 and isinstance(values[0], str):
            return Message(text=values[0], role="user")
        return Message(text=json.dumps(args, default=str), role="user")

    def trigger(self, args: dict[str, Any], **kwargs: Any) -> MessageSequencePromise:
        """Start the agent on these arguments (in the active `MiniAgents` context)."""
        reply: MessageSequencePromise = self.agent.trigger(self.request_message(args), **kwargs)
        return reply

    def _run(self, run_manager: CallbackManagerForToolRun | None = None, **kwargs: Any) -> str:
        from miniagents_lc.agents.sync_bridge import run_sync

        return run_sync(self._arun(**kwargs))

    async def _arun(
        self, run_manager: AsyncCallbackManagerForToolRun | None = None, **kwargs: Any
    ) -> str:
        # A tool call the instruments of the calling agent (if any) see.
        return await observe_tool_call(
            current_interaction.get(), self.name, None, kwargs, self._atext(run_manager, kwargs)
        )

    async def _atext(
        self, run_manager: AsyncCallbackManagerForToolRun | None, kwargs: dict[str, Any]
    ) -> str:
        config = ensure_config()
        config["tags"] = [*config.get("tags", []), _NOSTREAM_TAG]
        if run_manager is not None:
            config["callbacks"] = run_manager.get_child()
        writer, step_key = _tool_output_stream(config, run_manager)
        step = _steps.setdefault(step_key, _StepOrder()) if writer is not None else None
        slot = step.join(writer) if step is not None and writer is not None else None
        pieces: list[str] = []
        try:
            async for chunk in self.agent.astream(self.request_message(kwargs), config):
                if chunk.text:
                    pieces.append(chunk.text)
                    if slot is not None:
                        slot.write(chunk.text)
        finally:
            if step is not None and slot is not None:
                step.finish(slot)
                if step.done:
                    _steps.pop(step_key, None)
        return "".join(pieces)


class _Slot:
    """One tool call's place in its step: written through while it is the first unfinished
    call, held until then otherwise."""

    __slots__ = ("finished", "held", "live", "writer")

    def __init__(self, writer: Callable[[Any], None]) -> None:
        self.writer = writer
        self.live = False
        self.finished = False
        self.held: list[str] = []

    def write(self, text: str) -> None:
        if self.live:
            self.writer(text)
        else:
            self.held.append(text)

    def release(self) -> None:
        self.live = True
        for text in self.held:
            self.writer(text)
        self.held.clear()


class _StepOrder:
    """The agent tool calls of one tool step (one parent run), in the order they started,
    which is the order the model made them: each streams its output after those before it,
    so the tool output stream reads in call order while the agents run in parallel."""

    def __init__(self) -> None:
        self._pending: list[_Slot] = []

    @property
    def done(self) -> bool:
        return not self._pending

    def join(self, writer: Callable[[Any], None]) -> _Slot:
        slot = _Slot(writer)
        self._pending.append(slot)
        if len(self._pending) == 1:
            slot.release()
        return slot

    def finish(self, slot: _Slot) -> None:
        slot.finished = True
        # Release the calls that come next: those already finished at once, whole, up to the
        # first one still running, which then streams live.
        while self._pending and self._pending[0].finished:
            self._pending.pop(0)
            if self._pending:
                self._pending[0].release()


# The steps with agent tool calls streaming now, by the run id of their tool node.
_steps: dict[Any, _StepOrder] = {}


def agent_as_tool(
    agent: Any,
    name: str | None = None,
    description: str | None = None,
    args_schema: type[BaseModel] | None = None,
) -> AgentTool:
    """`agent` as an `AgentTool` named by its alias and described by its description."""
    return AgentTool(
        agent=agent,
        name=name or agent.alias,
        description=description or agent.description or f"Asks the agent {agent.alias}.",
        args_schema=args_schema or AgentRequest,
    )


def _tool_output_stream(
    config: RunnableConfig, run_manager: AsyncCallbackManagerForToolRun | None
) -> tuple[Callable[[Any], None] | None, Any]:
    """The writer of LangGraph's tool output stream for the running tool call, if any, and
    the key of its step: the stream it writes to, the graph step and the node."""
    if run_manager is None:
        return langgraph_tool_writer(())[0], None
    writer, stream = langgraph_tool_writer(run_manager.handlers)
    if writer is None:
        return None, None
    metadata = config.get("metadata", {})
    return writer, (id(stream), metadata.get("langgraph_step"), metadata.get("langgraph_node"))
