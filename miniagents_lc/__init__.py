"""miniagents_lc: replayable streamed promises for LangChain.

One continuous token stream across nested, parallel agents: every message is a
`MessagePromise`, every reply a `MessageSequencePromise`, and every agent a LangChain Runnable.

Importing the package is cheap: each name below is loaded on first use (`from miniagents_lc
import MiniAgent` imports the agents layer and LangChain's Runnable then), so a program that
only needs one layer, or the demo's first screen, does not wait for all of them.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from miniagents_lc.agents import (
        INSTRUMENTS_KEY,
        AgentCall,
        AgentFunction,
        AgentRequest,
        AgentRun,
        AgentTool,
        Budget,
        BudgetExceededError,
        BudgetState,
        Instrument,
        InteractionContext,
        MiniAgent,
        MiniAgents,
        ModelCall,
        ModelPrice,
        PersistHandler,
        PriceTable,
        ReplyRecord,
        ToolRun,
        current_agent_trace,
        instrumented,
        is_watched,
        miniagent,
        observe_model_call,
        observe_tool_call,
    )
    from miniagents_lc.langchain import MiniAgentChatModel, ToolErrors, ToolLike, ToolLoopLimitError

    # From their modules: mypy takes these two names, which are also module names of
    # `miniagents_lc.langchain`, for a redefinition when imported from the package here.
    from miniagents_lc.langchain.chat_model_agent import chat_model_agent
    from miniagents_lc.langchain.tool_agent import tool_agent
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

#: The layers whose public names the package re-exports, in the order they import each other:
#: looking a name up imports only layers the one defining it imports anyway.
_RE_EXPORTING_LAYERS = ("promising", "messages", "agents", "langchain")


def __getattr__(name: str) -> Any:
    """Load a re-exported name (or a subpackage) the first time it is asked for."""
    if name in __all__:
        for layer in _RE_EXPORTING_LAYERS:
            module = importlib.import_module(f"{__name__}.{layer}")
            if name in module.__all__:
                value = getattr(module, name)
                globals()[name] = value  # later lookups no longer come here
                return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        submodule: ModuleType = importlib.import_module(f"{__name__}.{name}")
        return submodule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "DEFAULT",
    "INSTRUMENTS_KEY",
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
    "Budget",
    "BudgetExceededError",
    "BudgetState",
    "Defaultable",
    "ErrorMessage",
    "FedSequence",
    "FlatSequence",
    "FrozenDict",
    "Instrument",
    "InteractionContext",
    "Message",
    "MessagePromise",
    "MessageSequence",
    "MessageSequencePromise",
    "MessageType",
    "MiniAgent",
    "MiniAgentChatModel",
    "MiniAgents",
    "ModelCall",
    "ModelPrice",
    "NoActiveContextError",
    "PersistHandler",
    "PriceTable",
    "Promise",
    "PromisingContext",
    "PromisingError",
    "ReplyRecord",
    "StreamCancelledError",
    "StreamCursor",
    "StreamedPromise",
    "ToolErrors",
    "ToolLike",
    "ToolLoopLimitError",
    "ToolRun",
    "chat_model_agent",
    "current_agent_trace",
    "fed_message_sequence",
    "flatten",
    "instrumented",
    "is_watched",
    "joined_text",
    "message_from_langchain",
    "miniagent",
    "observe_model_call",
    "observe_tool_call",
    "thaw",
    "tool_agent",
]
