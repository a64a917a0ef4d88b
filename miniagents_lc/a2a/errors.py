"""The error an A2A agent's caller can get."""

from __future__ import annotations


class A2AAgentError(Exception):
    """A remote A2A agent's task did not complete: raised in the caller's reply after the
    tokens that arrived before it. Carries the agent's `alias`, the task's `state` (`failed`,
    `canceled`, `rejected`, `lost` when the task could not be followed any more, ...) and the
    agent's `message` about it."""

    def __init__(self, alias: str, state: str, message: str) -> None:
        detail = f": {message}" if message else ""
        super().__init__(f"A2A agent {alias!r} ended its task as {state}{detail}")
        self.alias = alias
        self.state = state
        self.message = message

    def __reduce__(self) -> tuple[type[A2AAgentError], tuple[str, str, str]]:
        return (type(self), (self.alias, self.state, self.message))


__all__ = ["A2AAgentError"]
