"""miniagents_lc: replayable streamed promises for LangChain.

One continuous token stream across nested, parallel agents: every message is a
`MessagePromise`, every reply a `MessageSequencePromise`, and every agent a LangChain Runnable.
"""

from miniagents_lc.agents import (
    AgentCall,
    AgentRequest,
    AgentTool,
    InteractionContext,
    MiniAgent,
    MiniAgents,
    miniagent,
)
from miniagents_lc.langchain import (
    MiniAgentChatModel,
    ToolLoopLimitError,
    chat_model_agent,
    tool_agent,
)
from miniagents_lc.messages import (
    AssistantMessage,
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
    "AgentRequest",
    "AgentTool",
    "AppendClosedError",
    "AppendNotOpenError",
    "AppendProducer",
    "AssistantMessage",
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
    "ToolLoopLimitError",
    "chat_model_agent",
    "flatten",
    "miniagent",
    "tool_agent",
]
