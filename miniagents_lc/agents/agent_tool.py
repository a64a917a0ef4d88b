"""`AgentTool`: a `MiniAgent` as a LangChain tool, with a typed args schema and a text result."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForToolRun, CallbackManagerForToolRun
from langchain_core.runnables.config import ensure_config
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

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
    `tool-output-delta` events while it runs.
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
        config = ensure_config()
        config["tags"] = [*config.get("tags", []), _NOSTREAM_TAG]
        if run_manager is not None:
            config["callbacks"] = run_manager.get_child()
        write = _tool_output_writer()
        pieces: list[str] = []
        async for chunk in self.agent.astream(self.request_message(kwargs), config):
            if chunk.text:
                pieces.append(chunk.text)
                if write is not None:
                    write(chunk.text)
        return "".join(pieces)


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


def _tool_output_writer() -> Callable[[Any], None] | None:
    """The writer of LangGraph's tool output stream for the running tool call, if any."""
    try:
        from langgraph.pregel._tools import _tool_call_writer
    except ImportError:  # LangGraph is optional: without it there is no such stream
        return None
    return _tool_call_writer.get()
