"""What the demo writes before and around the agents' text: its default question, and streamed
text wrapped at word boundaries. Standard library only, so the demo's first line does not wait
for LangChain to load."""

from __future__ import annotations

import shutil
from typing import TextIO

DEFAULT_QUESTION = "How do we stream one answer from several agents working at once?"


class WordWrap:
    """Writes streamed text to `out`, breaking lines at word boundaries so that none is longer
    than `width` (a word longer than a line gets a line of its own, broken where it must be).

    Text arrives in pieces that may cut a word in two, so the word being written is held back
    until it ends (a space, a newline, or `end`). With `width=None` the text passes through
    unchanged, as it should into a file or a pipe.
    """

    def __init__(self, out: TextIO, width: int | None) -> None:
        self.out = out
        self.width = width
        self._column = 0
        self._spaces = 0
        self._word = ""
        self._wrapped = False  # the current line began with a break of ours, not of the text

    @classmethod
    def for_terminal(cls, out: TextIO) -> WordWrap:
        """Wrapping at the terminal's width when `out` is a terminal, none elsewhere."""
        is_terminal = getattr(out, "isatty", lambda: False)()
        return cls(out, shutil.get_terminal_size().columns if is_terminal else None)

    def write(self, text: str) -> None:
        """Write `text` (any piece of the stream)."""
        if self.width is None:
            self.out.write(text)
            return
        for char in text:
            if char == "\n":
                self._place_word()
                self.out.write("\n")
                self._column, self._spaces, self._wrapped = 0, 0, False
            elif char == " ":
                self._place_word()
                self._spaces += 1
            else:
                self._word += char
                if len(self._word) >= self.width:
                    self._place_word()

    def flush(self) -> None:
        """Flush `out` (the word being written stays held back until it ends)."""
        self.out.flush()

    def end(self) -> None:
        """The text has ended: write the word held back, and flush `out`."""
        self._place_word()
        self.out.flush()

    def _place_word(self) -> None:
        word, self._word = self._word, ""
        if not word or self.width is None:
            return
        # Spaces that begin a line of the text (indentation) are kept; after a break of ours
        # they would only push the next word off the left edge.
        spaces = 0 if self._column == 0 and self._wrapped else self._spaces
        self._spaces = 0
        if self._column > 0 and self._column + spaces + len(word) > self.width:
            self.out.write("\n")
            self._column, spaces, self._wrapped = 0, 0, True
        self.out.write(" " * spaces + word)
        self._column += spaces + len(word)


__all__ = ["DEFAULT_QUESTION", "WordWrap"]
