"""What an agent function is, and the context API it receives: `InteractionContext` (its
input, itself, and the way to reply)."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from miniagents_lc.agents.app_context import MiniAgents
from miniagents_lc.agents.current import current_interaction_or_raise
from miniagents_lc.agents.out_of_order import place_when_ready
from miniagents_lc.messages import MessageSequence, MessageSequencePromise, MessageType
from miniagents_lc.promising import AppendClosedError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from miniagents_lc.agents.agent import MiniAgent
    from miniagents_lc.agents.call import AgentCall

AgentFunction = Callable[..., Awaitable[None]]
"""`async def agent(ctx: InteractionContext, **kwargs) -> None`."""


class InteractionContext:
    """What an agent function gets: its input, itself, and the way to reply.

    `message_promises` is the input, streamed; `reply(...)` appends anything of `MessageType`
    to the reply sequence, in order (`reply_out_of_order(...)`: in the order its messages
    resolve); `finish_early()` ends the reply sequence at once; `make_sure_to_wait(...)` keeps
    the replies open until a piece of work is done. `InteractionContext.get_current()` finds
    the context from anywhere in the agent's code, and `agent_trace` names the calls above it.
    `config` is the LangChain `RunnableConfig` of the run this call belongs to (None outside
    LangChain): pass it to models you call so they show up in traces.
    """

    __slots__ = ("_call", "config", "this_agent")

    def __init__(self, this_agent: MiniAgent, call: AgentCall) -> None:
        self.this_agent = this_agent
        self._call = call
        self.config: RunnableConfig | None = None

    @property
    def call(self) -> AgentCall:
        """The agent call this context belongs to."""
        return self._call

    @property
    def message_promises(self) -> MessageSequencePromise:
        """The input messages, flattened and streamed as the caller sends them."""
        return self._call._input_promise()

    @classmethod
    def get_current(cls) -> InteractionContext:
        """The context of the agent call whose code is running (in its function or a task it
        started); raises `NoActiveContextError` elsewhere."""
        return current_interaction_or_raise()

    @property
    def agent_trace(self) -> tuple[str, ...]:
        """The aliases of this call and of the calls that triggered it, this one first."""
        aliases: list[str] = []
        interaction: InteractionContext | None = self
        while interaction is not None:
            aliases.append(interaction.this_agent.alias)
            interaction = interaction._call._parent
        return tuple(aliases)

    def reply(self, messages: MessageType) -> None:
        """Append to the reply sequence; the caller reads replies in the order given."""
        self._append_reply(messages)

    def reply_out_of_order(self, messages: MessageType) -> None:
        """Place each message of `messages` in the reply sequence once it has resolved (its
        whole text produced), first resolved first, wherever the replies then are. The
        replies stay open until all of them are placed."""
        sequence = MessageSequence.turn_into_sequence_promise(messages)
        context = MiniAgents.get_current()
        self.make_sure_to_wait(
            context.schedule_task(
                place_when_ready(sequence, self._place_out_of_order),
                name=f"miniagent-out-of-order:{self.this_agent.alias}",
            )
        )

    def _place_out_of_order(self, messages: MessageType) -> None:
        # After finish_early() nothing more reaches the caller, by that call's meaning.
        if not self._call._reply.append_producer.is_closed:
            self._append_reply(messages)

    def make_sure_to_wait(self, awaitable: Awaitable[Any]) -> None:
        """Keep the reply sequence open until `awaitable` is done (a coroutine starts as a task
        of the context now). Its error is the agent's error, as if the function had raised it."""
        if inspect.iscoroutine(awaitable):
            awaitable = MiniAgents.get_current().schedule_task(awaitable)
        call = self._call
        if call._awaited is None:
            call._awaited = [awaitable]
        else:
            call._awaited.append(awaitable)

    def _append_reply(self, messages: MessageType) -> None:
        try:
            self._call._reply.append_producer.append(messages)
        except AppendClosedError as error:
            raise AppendClosedError(
                f"Agent {self.this_agent.alias!r} replied after its reply sequence was closed "
                "(the agent function had returned, or finish_early() was called). Reply "
                "before returning; to keep working in the background, reply with a promise."
            ) from error

    def finish_early(self) -> None:
        """End the reply sequence now; the function may go on, but nothing more reaches the
        caller."""
        self._call._reply.append_producer.close()


__all__ = ["AgentFunction", "InteractionContext"]
