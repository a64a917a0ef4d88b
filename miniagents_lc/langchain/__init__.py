"""The LangChain face: agents as Runnables, message conversion and chat-model adapters."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from miniagents_lc.langchain.chat_model import MiniAgentChatModel
    from miniagents_lc.langchain.chat_model_agent import chat_model_agent

# `miniagents_lc.agents` imports this package while it is itself being imported, and the
# adapters below need the finished `MiniAgent`: so they are loaded on first access.
_LAZY = {
    "MiniAgentChatModel": "miniagents_lc.langchain.chat_model",
    "chat_model_agent": "miniagents_lc.langchain.chat_model_agent",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["MiniAgentChatModel", "chat_model_agent"]
