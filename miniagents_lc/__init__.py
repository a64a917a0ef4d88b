"""miniagents_lc: replayable streamed promises for LangChain.

One continuous token stream across nested, parallel agents: every message is a
`MessagePromise`, every reply a `MessageSequencePromise`, and every agent a LangChain Runnable.
"""

from miniagents_lc.agents import (
    AgentCall,
    InteractionContext,
    MiniAgent,
    MiniAgents,
    current_agent_trace,
    miniagent,
)
from miniagents_lc.langchain import MiniAgentChatModel, chat_model_agent
from miniagents_lc.messages import (
    AssistantMessage,
    ErrorMessage,
    FrozenDict,
    Message,
    MessagePromise,
    MessageSequence,
    MessageSequencePromise,
    MessageType,
)
from miniagents_lc.promising import (
    DEFAULT,
    AppendClosedError,
    AppendNotOpenError,
    AppendProducer,
    FedSequence,
    FlatSequence,
    NoActiveContextError,
    Promise,
    PromisingContext,
    PromisingError,
    StreamCancelledError,
    StreamCursor,
    StreamedPromise,
    flatten,
)

__all__ = [
    "DEFAULT",
    "AgentCall",
    "AppendClosedError",
    "AppendNotOpenError",
    "AppendProducer",
    "AssistantMessage",
    "ErrorMessage",
    "FedSequence",
    "FlatSequence",
    "FrozenDict",
    "InteractionContext",
    "Message",
    "MessagePromise",
    "MessageSequence",
    "MessageSequencePromise",
    "MessageType",
    "MiniAgent",
    "MiniAgentChatModel",
    "MiniAgents",
    "NoActiveContextError",
    "Promise",
    "PromisingContext",
    "PromisingError",
    "StreamCancelledError",
    "StreamCursor",
    "StreamedPromise",
    "chat_model_agent",
    "current_agent_trace",
    "flatten",
    "miniagent",
]
