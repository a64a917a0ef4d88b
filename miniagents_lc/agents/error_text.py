"""An `ErrorMessage` in the text stream of a run: its marked text as one piece that keeps the
error, so the chunk made of it can say it is an error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from miniagents_lc.messages import ErrorMessage, MessagePromise
from miniagents_lc.promising.lowlevel import known_whole

ERRORS_KEY = "errors"
"""The `response_metadata` key of a chunk (and of the whole reply) listing its errors."""


class ErrorText(str):
    """The text of an `ErrorMessage`, carrying the message; it is never joined with others."""

    __slots__ = ("error",)

    error: ErrorMessage

    def __new__(cls, error: ErrorMessage) -> ErrorText:
        text = super().__new__(cls, error.text or "")
        text.error = error
        return text


def error_message_of(promise: MessagePromise) -> ErrorMessage | None:
    """The `ErrorMessage` `promise` resolved to, if it is one (error messages are made
    resolved, so nothing is awaited)."""
    whole = known_whole(promise)
    return whole if isinstance(whole, ErrorMessage) else None


def text_runs(batch: list[str]) -> Iterator[str]:
    """The pieces of `batch` joined into as few texts as possible, each `ErrorText` alone."""
    if len(batch) == 1:
        yield batch[0]
        return
    run: list[str] = []
    for piece in batch:
        if isinstance(piece, ErrorText):
            if run:
                yield "".join(run)
                run = []
            yield piece
        else:
            run.append(piece)
    if run:
        yield "".join(run)


def error_metadata(pieces: Iterable[str]) -> dict[str, Any]:
    """`{ERRORS_KEY: [...]}` describing every error among `pieces` (alias, type, message and
    traceback), or `{}` when there is none; summed chunks keep the list whole."""
    errors = [
        piece.error.model_dump(
            include={"agent_alias", "error_type", "error_message", "error_traceback"}
        )
        for piece in pieces
        if isinstance(piece, ErrorText)
    ]
    return {ERRORS_KEY: errors} if errors else {}


__all__ = [
    "ERRORS_KEY",
    "ErrorText",
    "error_message_of",
    "error_metadata",
    "text_runs",
]
