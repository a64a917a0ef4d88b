"""Chain runs for agents triggered inside a LangChain run, so traces show the agent tree."""

from __future__ import annotations

from typing import Any

# LangChain's callback machinery imports its tracers (langsmith, tenacity: ~7 ms) the first
# time any run configures its callbacks. Every run of an agent does, so the agents pay that
# as they load, beside the Runnable they import anyway, rather than on the first run's way to
# its first token. (`import miniagents_lc` alone still loads none of it.)
import langchain_core.tracers.context
import langchain_core.tracers.langchain
import langchain_core.tracers.run_collector
import langchain_core.tracers.stdout  # noqa: F401
from langchain_core.callbacks import AsyncCallbackManagerForChainRun, BaseCallbackManager
from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.config import (
    get_async_callback_manager_for_config,
    patch_config,
    var_child_runnable_config,
)

from miniagents_lc.messages import MessageSequencePromise, joined_text


class AgentTrace:
    """The chain run of one agent call; its config is what the agent passes on."""

    def __init__(self, run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig):
        self.run_manager = run_manager
        self.config = config

    async def fail(self, error: BaseException) -> None:
        """Report the agent's failure on its run."""
        await self.run_manager.on_chain_error(error)

    async def finish(self, replies: MessageSequencePromise) -> None:
        """End the run with the agent's whole reply once it has resolved."""
        try:
            messages = await replies.acollect_messages()
        except Exception as error:
            await self.run_manager.on_chain_error(error)
            return
        await self.run_manager.on_chain_end(AIMessage(content=joined_text(messages)))


def wants_agent_trace(run_config: RunnableConfig | None) -> bool:
    """Whether `start_agent_trace` may open a run: a call made inside a LangChain run that is
    not itself the root of one (`run_config` given: `agent.astream(...)` has its run already)
    and whose run found handlers when it started. A cheap check, for every call."""
    if run_config is not None:
        return False
    parent = var_child_runnable_config.get()
    if parent is None:
        return False
    callbacks = parent.get("callbacks")
    # The run's own manager, configured when the run started, found no handler (no tracer in
    # the environment either): configuring it again for every agent call of the tree would
    # find none too, and costs about a third of a small call.
    return not (isinstance(callbacks, BaseCallbackManager) and not callbacks.handlers)


async def start_agent_trace(alias: str, run_config: RunnableConfig | None) -> AgentTrace | None:
    """Open a chain run named `alias` under the LangChain run active in this task, if any.

    `run_config` is given when the call is itself the root of a run (`agent.astream(...)`),
    which already has its run; then nothing is opened. Whether there is anybody to tell is
    decided when the run starts: a run whose callback manager has no handlers opens no runs
    for its agents (`wants_agent_trace`). Otherwise the new run's child config
    becomes the task's config, so models and sub-agents called from here nest under it.
    """
    if not wants_agent_trace(run_config):
        return None
    parent = var_child_runnable_config.get()
    assert parent is not None  # wants_agent_trace checked it
    manager = get_async_callback_manager_for_config(parent)
    if not manager.handlers:
        return None
    inputs: dict[str, Any] = {"input": ""}
    run_manager = await manager.on_chain_start(None, inputs, name=alias)
    config = patch_config(parent, callbacks=run_manager.get_child())
    var_child_runnable_config.set(config)
    return AgentTrace(run_manager, config)


__all__ = [
    "AgentTrace",
    "start_agent_trace",
    "wants_agent_trace",
]
