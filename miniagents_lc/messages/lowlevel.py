"""What the agents layer needs of messages beyond the public API: the note that marks an error
as raised in an agent (its wording is parsed back by `ErrorMessage`, so both sides share it)."""

from miniagents_lc.messages.error import RAISED_IN_AGENT

__all__ = ["RAISED_IN_AGENT"]
