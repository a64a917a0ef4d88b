"""OpenAI adapter for miniagents_lc."""
