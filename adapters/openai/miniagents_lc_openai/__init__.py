"""OpenAI adapter for miniagents_lc."""

from miniagents_lc_openai.agent import OpenAIAgent, OpenAIStreamError

__all__ = ["OpenAIAgent", "OpenAIStreamError"]
