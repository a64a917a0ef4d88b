"""LangChain adapters built on agents: any chat model as an agent, and any agent as a chat model."""

from miniagents_lc.langchain.chat_model import MiniAgentChatModel
from miniagents_lc.langchain.chat_model_agent import chat_model_agent

__all__ = ["MiniAgentChatModel", "chat_model_agent"]
