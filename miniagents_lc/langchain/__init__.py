"""LangChain adapters built on agents: any chat model as an agent, any agent as a chat model,
and tool-calling loops over either."""

from miniagents_lc.langchain.chat_model import MiniAgentChatModel
from miniagents_lc.langchain.chat_model_agent import chat_model_agent
from miniagents_lc.langchain.tool_agent import ToolErrors, ToolLike, ToolLoopLimitError, tool_agent

__all__ = [
    "MiniAgentChatModel",
    "ToolErrors",
    "ToolLike",
    "ToolLoopLimitError",
    "chat_model_agent",
    "tool_agent",
]
