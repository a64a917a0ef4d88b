"""miniagents_lc: replayable streamed promises for LangChain.

One continuous token stream across nested, parallel agents: every message is a
`MessagePromise`, every reply a `MessageSequencePromise`, and every agent a LangChain Runnable.
"""

# The agents' v3 event streams live in the protocol layer, installed as it is imported.
from miniagents_lc import protocol as _protocol  # noqa: F401
from miniagents_lc.agents import (
    AgentCall,
    AgentFunction,
    AgentRequest,
    AgentRun,
    AgentTool,
    InteractionContext,
    MiniAgent,
    MiniAgents,
    PersistHandler,
    current_agent_trace,
    miniagent,
)
from miniagents_lc.langchain import (
    MiniAgentChatModel,
    ToolErrors,
    ToolLike,
    ToolLoopLimitError,
    chat_model_agent,
    tool_agent,
)
from miniagents_lc.messages import (
    MESSAGE_SEPARATOR,
    AssistantMessage,
    ErrorMessage,
    FrozenDict,
    Message,
    MessagePromise,
    MessageSequence,
    MessageSequencePromise,
    MessageType,
    fed_message_sequence,
    joined_text,
    message_from_langchain,
    thaw,
)
from miniagents_lc.promising import (
    DEFAULT,
    AppendClosedError,
    AppendNotOpenError,
    AppendProducer,
    Defaultable,
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

# Usage per agent call (asked for in a run's config) follows runs through the agents' slot too.
from miniagents_lc.view import usage as _usage  # noqa: F401

__all__ = [
    "DEFAULT",
    "MESSAGE_SEPARATOR",
    "AgentCall",
    "AgentFunction",
    "AgentRequest",
    "AgentRun",
    "AgentTool",
    "AppendClosedError",
    "AppendNotOpenError",
    "AppendProducer",
    "AssistantMessage",
    "Defaultable",
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
    "PersistHandler",
    "Promise",
    "PromisingContext",
    "PromisingError",
    "StreamCancelledError",
    "StreamCursor",
    "StreamedPromise",
    "ToolErrors",
    "ToolLike",
    "ToolLoopLimitError",
    "chat_model_agent",
    "current_agent_trace",
    "fed_message_sequence",
    "flatten",
    "joined_text",
    "message_from_langchain",
    "miniagent",
    "thaw",
    "tool_agent",
]
