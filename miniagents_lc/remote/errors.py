"""The errors a remote agent's caller can get."""

from __future__ import annotations


class RemoteAgentError(Exception):
    """A remote agent's run failed on its server: raised in the caller's reply after the
    tokens that arrived before the failure. Carries the remote agent's `alias`, the server-side
    `error_type` (the exception's class name) and its `message`."""

    def __init__(self, alias: str, error_type: str, message: str) -> None:
        super().__init__(f"Remote agent {alias!r} failed: {error_type}: {message}")
        self.alias = alias
        self.error_type = error_type
        self.message = message

    def __reduce__(self) -> tuple[type[RemoteAgentError], tuple[str, str, str]]:
        return (type(self), (self.alias, self.error_type, self.message))


class RemoteRunLostError(RemoteAgentError):
    """The run cannot be followed any more: the worker running it stopped, its events expired,
    or the connection could not be re-established within the retries."""


__all__ = ["RemoteAgentError", "RemoteRunLostError"]
