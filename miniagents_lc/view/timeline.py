"""`timeline_svg`: the agent calls of measured runs drawn on one time axis, as an SVG.

Each call is a row, under the call that made it: a pale bar from its start to the first token
of its subtree (waiting), a solid one from there to its end (streaming), and, for calls that
have siblings, its place in its caller's reply against its place in the order they finished.
Several runs share the axis, so a parallel run and a sequential one compare at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from miniagents_lc.view.state import CallState, RunState

_ROW = 22
_LABEL_WIDTH = 230
_NOTE_WIDTH = 190
_TITLE = 30
_AXIS = 34
_COLOURS = ("#3b82f6", "#10b981", "#f59e0b", "#8b5cf6", "#ef4444", "#14b8a6")


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _rows(root: CallState) -> list[tuple[int, CallState, str]]:
    """(depth, call, note) per call, depth first; the note compares reply and finish order
    among siblings."""
    rows: list[tuple[int, CallState, str]] = []

    def add(call: CallState, depth: int, note: str) -> None:
        rows.append((depth, call, note))
        siblings = call.children
        finish_order = sorted(siblings, key=lambda child: child.ended_ms or 0)
        for index, child in enumerate(siblings):
            child_note = ""
            if len(siblings) > 1:
                finished = finish_order.index(child) + 1
                child_note = f"replied {_ordinal(index + 1)}, finished {_ordinal(finished)}"
            add(child, depth + 1, child_note)

    add(root, 0, "")
    return rows


def timeline_svg(runs: Sequence[tuple[str, RunState]], *, width: int = 960) -> str:
    """An SVG of `runs` (title, state of a finished run), one above the other on one axis in
    seconds from each run's start."""
    prepared: list[tuple[str, CallState, list[tuple[int, CallState, str]]]] = []
    for title, state in runs:
        root = state.root
        if root is None or root.ended_ms is None:
            raise ValueError(f"The run {title!r} has not finished: draw finished runs only.")
        prepared.append((title, root, _rows(root)))
    longest = max((root.elapsed_ms() for _, root, _ in prepared), default=1) or 1
    plot = width - _LABEL_WIDTH - _NOTE_WIDTH
    scale = plot / longest
    height = sum(_TITLE + _ROW * len(rows) for _, _, rows in prepared) + _AXIS + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    y = 0
    for title, root, rows in prepared:
        total = root.elapsed_ms() / 1000
        parts.append(
            f'<text x="8" y="{y + 20}" font-size="14" font-weight="bold">'
            f"{escape(title)} — {total:.2f} s</text>"
        )
        y += _TITLE
        for index, (depth, call, note) in enumerate(rows):
            colour = _COLOURS[index % len(_COLOURS)]
            start = _LABEL_WIDTH + (call.started_ms - root.started_ms) * scale
            end = _LABEL_WIDTH + ((call.ended_ms or call.started_ms) - root.started_ms) * scale
            first = call.subtree_first_token_ms
            streaming_from = (
                _LABEL_WIDTH + (first - root.started_ms) * scale if first is not None else end
            )
            parts.append(
                f'<text x="{8 + depth * 14}" y="{y + 15}" class="agent">{escape(call.alias)}</text>'
            )
            parts.append(
                f'<rect class="waiting" x="{start:.1f}" y="{y + 4}" '
                f'width="{max(streaming_from - start, 0.5):.1f}" height="14" fill="{colour}" '
                f'fill-opacity="0.25"/>'
            )
            if first is not None:
                parts.append(
                    f'<rect class="streaming" x="{streaming_from:.1f}" y="{y + 4}" '
                    f'width="{max(end - streaming_from, 0.5):.1f}" height="14" fill="{colour}"/>'
                )
            if call.status == "failed":
                note = f"failed. {note}".strip()
            if note:
                parts.append(
                    f'<text x="{width - _NOTE_WIDTH + 8}" y="{y + 15}" fill="#444">'
                    f"{escape(note)}</text>"
                )
            y += _ROW
    axis_y = y + 8
    parts.append(
        f'<line x1="{_LABEL_WIDTH}" y1="{axis_y}" x2="{_LABEL_WIDTH + plot}" y2="{axis_y}" '
        'stroke="#888"/>'
    )
    step = 500 if longest <= 5000 else 1000
    for tick in range(0, longest + 1, step):
        x = _LABEL_WIDTH + tick * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#888"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle" fill="#444">'
            f"{tick / 1000:g} s</text>"
        )
    parts.append(
        f'<text x="8" y="{axis_y + 16}" fill="#444">pale: waiting · solid: streaming</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


__all__ = ["timeline_svg"]
