"""Anthropic adapter for miniagents_lc."""

from miniagents_lc_anthropic.agent import DEFAULT_MAX_TOKENS, AnthropicAgent, AnthropicStreamError

__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicAgent", "AnthropicStreamError"]
