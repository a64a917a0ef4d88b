"""Import time, side by side: `python -m benchmarks.import_time [--runs N]`.

What a program pays before its first line runs: `import miniagents_lc` against
`import langchain_core.language_models` (what any user of a LangChain chat model already
pays; the target is at most 1.2 times that), and the same for the first names a program uses
(`MiniAgent` against `BaseChatModel`, both of which import LangChain's Runnable). Each import
runs in a fresh interpreter, timed from inside it (`time.perf_counter` around the statement, so
the interpreter's own start is left out), best of N.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

TARGET_RATIO = 1.2
"""`import miniagents_lc` may take at most this many times
`import langchain_core.language_models`."""

#: (what is measured, the LangChain baseline it is compared with)
PAIRS: tuple[tuple[str, str], ...] = (
    ("import miniagents_lc", "import langchain_core.language_models"),
    (
        "from miniagents_lc import MiniAgent",
        "from langchain_core.language_models import BaseChatModel",
    ),
)

_TIMED = (
    "import time\nstart = time.perf_counter()\n{statement}\nprint(time.perf_counter() - start)\n"
)


def import_seconds(statement: str, runs: int) -> float:
    """The best of `runs` timings of `statement`, each in a fresh interpreter."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    timings = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", _TIMED.format(statement=statement)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            timeout=120,
        )
        timings.append(float(done.stdout.strip().splitlines()[-1]))
    return min(timings)


def report(runs: int) -> tuple[str, float]:
    """The side-by-side table, and the ratio of the first pair (the target's)."""
    lines = [f"Import time, fresh interpreter each, best of {runs}:"]
    width = max(len(statement) for pair in PAIRS for statement in pair)
    first_ratio = 0.0
    for index, (ours, baseline) in enumerate(PAIRS):
        ours_s = import_seconds(ours, runs)
        baseline_s = import_seconds(baseline, runs)
        ratio = ours_s / baseline_s
        if index == 0:
            first_ratio = ratio
        lines.append(f"  {ours:<{width}}  {ours_s * 1000:7.1f} ms")
        lines.append(f"  {baseline:<{width}}  {baseline_s * 1000:7.1f} ms   ratio {ratio:.2f}")
    verdict = "met" if first_ratio <= TARGET_RATIO else "MISSED"
    lines.append(f"  target: `{PAIRS[0][0]}` <= {TARGET_RATIO}x `{PAIRS[0][1]}`: {verdict}")
    return "\n".join(lines), first_ratio


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit status 1 if the target is missed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_time", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per import")
    args = parser.parse_args(argv)
    text, ratio = report(args.runs)
    print(text)
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
