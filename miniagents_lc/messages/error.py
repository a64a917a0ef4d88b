"""`ErrorMessage`: an error that took the place of the messages it ended, in a reply that
treats errors as messages."""

from __future__ import annotations

import traceback as traceback_module

from miniagents_lc.messages.message import Message

__all__ = ["ErrorMessage"]

RAISED_IN_AGENT = "raised in agent {alias!r}"
"""The note an agent call adds to an error its function raised (read back for the alias)."""


class ErrorMessage(Message):
    """An error in a reply, as a message: which agent it was raised in, its type, its message
    and (when asked for) its traceback. Its `text` is the same, marked so a reader of the plain
    text stream sees it is an error."""

    agent_alias: str | None = None
    """The agent whose function raised the error; else the agent whose reply it ended."""
    error_type: str
    """The exception's class name."""
    error_message: str
    """`str()` of the exception."""
    error_traceback: str | None = None
    """The formatted traceback (notes included), when tracebacks in messages are on."""

    @classmethod
    def of(
        cls, error: BaseException, *, agent_alias: str | None, with_traceback: bool = False
    ) -> ErrorMessage:
        """The message standing for `error`. The alias is that of the agent named as the
        raiser in the error's notes, else `agent_alias`."""
        alias = _raising_alias(error) or agent_alias
        error_type = type(error).__name__
        trace = "".join(traceback_module.format_exception(error)) if with_traceback else None
        where = f" in agent {alias!r}" if alias else ""
        text = f"[error{where}] {error_type}: {error}"
        if trace:
            text = f"{text}\n{trace}"
        return cls(
            text=text,
            agent_alias=alias,
            error_type=error_type,
            error_message=str(error),
            error_traceback=trace,
        )


def _raising_alias(error: BaseException) -> str | None:
    prefix, _, suffix = RAISED_IN_AGENT.partition("{alias!r}")
    for note in getattr(error, "__notes__", ()):
        if isinstance(note, str) and note.startswith(prefix) and note.endswith(suffix):
            quoted = note[len(prefix) : len(note) - len(suffix)]
            if len(quoted) >= 2 and quoted[0] == quoted[-1] and quoted[0] in "'\"":
                return quoted[1:-1]
    return None
