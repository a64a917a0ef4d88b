"""Run every measurement in its own subprocess, best of N, then print the tables and targets
and write the JSON report. Entry point: `python -m benchmarks [--quick] [--json PATH]`."""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import impl_protocol
from benchmarks.workloads import SIZES, WORKLOADS, WORKLOADS_BY_KEY

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = REPO_ROOT / "benchmarks" / "results.json"
SEPARATE_MINIAGENTS_VENV = REPO_ROOT / ".venv-bench-miniagents" / "bin" / "python"

LC = "miniagents_lc"
MA = "miniagents"
LANGCHAIN = "langchain"
ASYNCIO = "asyncio"


@dataclass(frozen=True)
class Spec:
    """One row of the report: a measurement of one implementation on one workload."""

    workload: str
    implementation: str
    measurement: str
    label: str
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.implementation}:{self.measurement}"


PLAN: tuple[Spec, ...] = (
    # (a) one stream
    Spec("stream", ASYNCIO, "stream", "asyncio: async generator"),
    Spec("stream", LC, "stream", "miniagents_lc: MessagePromise, `async for`"),
    Spec("stream", LC, "stream/read", "miniagents_lc: MessagePromise, `cursor.read()`"),
    Spec("stream", MA, "stream", "MiniAgents 0.0.35: MessagePromise"),
    Spec("stream", LANGCHAIN, "stream", "LangChain: RunnableGenerator.astream (str)"),
    # (b) the tree, token by token
    Spec("tree", ASYNCIO, "tree", "asyncio: nested async generators"),
    Spec(
        "tree",
        ASYNCIO,
        "tree/messages",
        "asyncio: generators of message generators",
        "levels pass leaf generators up; each token crosses one generator (the floor)",
    ),
    Spec(
        "tree",
        ASYNCIO,
        "tree/replay",
        "asyncio: leaves drained by tasks, replayed",
        "a task per leaf drains it into a list, read through a generator: each token crosses "
        "two generators (the floor of a design that produces each message once in its own "
        "task and replays it)",
    ),
    Spec("tree", LC, "tree", "miniagents_lc: nested agents, `async for`"),
    Spec("tree", LC, "tree/sequences", "miniagents_lc: nested MessageSequences, `async for`"),
    Spec("tree", LC, "tree/read", "miniagents_lc: nested agents, `cursor.read()`"),
    Spec("tree", MA, "tree", "MiniAgents 0.0.35: nested agents"),
    Spec("tree", MA, "tree/sequences", "MiniAgents 0.0.35: nested MessageSequences"),
    Spec("tree", LANGCHAIN, "tree", "LangChain: nested RunnableGenerators (str)"),
    # (c) the tree as AIMessageChunks
    Spec("astream", ASYNCIO, "astream", "asyncio: nested generators + AIMessageChunk per token"),
    Spec("astream", LC, "astream", "miniagents_lc: agent.astream()"),
    Spec("astream", MA, "astream", "MiniAgents 0.0.35: nested agents + AIMessageChunk per token"),
    Spec("astream", LANGCHAIN, "astream", "LangChain: nested RunnableGenerators"),
    Spec(
        "astream",
        ASYNCIO,
        "astream/yielding",
        "asyncio, leaves yield to the loop per token",
        "variant: `await asyncio.sleep(0)` before each leaf token, as a network stream would",
    ),
    Spec("astream", LC, "astream/yielding", "miniagents_lc: agent.astream(), leaves yield"),
    Spec("astream", LANGCHAIN, "astream/yielding", "LangChain: nested generators, leaves yield"),
    # (d) latency
    Spec("latency", ASYNCIO, "latency", "asyncio: tasks + queues"),
    Spec("latency", LC, "latency", "miniagents_lc: agent.astream()"),
    Spec("latency", LC, "latency/engine", "miniagents_lc: trigger + MessagePromises"),
    Spec("latency", MA, "latency", "MiniAgents 0.0.35: nested agents"),
    Spec("latency", LANGCHAIN, "latency", "LangChain: nested RunnableGenerators"),
    # (e) load
    Spec("load", ASYNCIO, "load", "asyncio: a task + queue per call"),
    Spec("load", LC, "load", "miniagents_lc: agent.trigger() per call"),
    Spec("load", MA, "load", "MiniAgents 0.0.35: agent.trigger() per call"),
    Spec("load", LANGCHAIN, "load", "LangChain: a task per RunnableGenerator.astream()"),
    # (f) memory
    Spec("memory", ASYNCIO, "memory", "asyncio"),
    Spec("memory", LC, "memory", "miniagents_lc"),
    Spec("memory", MA, "memory", "MiniAgents 0.0.35"),
    Spec("memory", LANGCHAIN, "memory", "LangChain"),
)
# (g) the v3 streaming protocol: rows, table and targets live in impl_protocol.
PLAN += impl_protocol.plan(Spec)


# -- running --------------------------------------------------------------------------------


@dataclass
class Row:
    spec: Spec
    interpreter: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def best(self) -> dict[str, float]:
        """The best of the runs: the minimum of every time, size and memory figure."""
        if not self.runs:
            return {}
        best: dict[str, float] = {}
        for name, value in self.runs[0].items():
            if not isinstance(value, int | float):
                continue
            if name.endswith(("_s", "_mb", "_bytes", "_token")):
                best[name] = min(float(run[name]) for run in self.runs)
            else:
                best[name] = float(value)
        return best


def _miniagents_python(explicit: str | None) -> str:
    if explicit:
        return explicit
    if importlib.util.find_spec("miniagents") is None and SEPARATE_MINIAGENTS_VENV.exists():
        return str(SEPARATE_MINIAGENTS_VENV)
    return sys.executable


def _run_one(python: str, spec: Spec, sizes: str, timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    command = [
        python,
        "-m",
        "benchmarks.measure",
        spec.implementation,
        spec.measurement,
        sizes,
    ]
    completed = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if completed.returncode != 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"exit {completed.returncode}: {' | '.join(tail)}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def _load_average() -> list[float]:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def run_plan(
    plan: Iterable[Spec],
    *,
    sizes: str,
    repeats: int,
    timeout: float,
    miniagents_python: str,
    log: Callable[[str], None],
) -> list[Row]:
    rows = [
        Row(spec, miniagents_python if spec.implementation == MA else sys.executable)
        for spec in plan
    ]
    total = len(rows) * repeats
    done = 0
    # Round robin: a burst of load from elsewhere on the machine hits one repeat of many
    # measurements rather than every repeat of one.
    for repeat in range(repeats):
        for row in rows:
            done += 1
            spec = row.spec
            started = time.perf_counter()
            try:
                result = _run_one(row.interpreter, spec, sizes, timeout)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError) as error:
                row.errors.append(str(error))
                log(f"[{done}/{total}] {spec.workload} {spec.key} run {repeat + 1}: ERROR {error}")
                continue
            row.runs.append(result)
            elapsed = time.perf_counter() - started
            headline = _headline(result)
            where = f"[{done}/{total}] {spec.workload} {spec.key} run {repeat + 1}"
            log(f"{where}: {headline} ({elapsed:.1f} s)")
    return rows


def _headline(result: dict[str, Any]) -> str:
    for name in ("total_s", "wall_s"):
        if name in result:
            return f"{name}={result[name]:.4f}"
    if "call_peak_bytes" in result:
        return f"call_peak_bytes={result['call_peak_bytes']:.0f}"
    return ""


# -- reporting ------------------------------------------------------------------------------


def _fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _fmt_bytes(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f} B" if value >= 100 else f"{value:.1f} B"


def _table(header: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            + " |"
        )

    rule = "|" + "|".join("-" * (width + 2) for width in widths) + "|"
    return "\n".join([render(header), rule, *(render(cells) for cells in lines)])


def _rows_of(rows: list[Row], workload: str) -> list[Row]:
    return [row for row in rows if row.spec.workload == workload]


def _find(rows: list[Row], workload: str, implementation: str, measurement: str) -> Row | None:
    for row in rows:
        spec = row.spec
        if (spec.workload, spec.implementation, spec.measurement) == (
            workload,
            implementation,
            measurement,
        ):
            return row
    return None


def _metric(row: Row | None, name: str) -> float | None:
    if row is None:
        return None
    return row.best.get(name)


def _throughput_table(rows: list[Row], workload: str) -> str:
    reference = _metric(_find(rows, workload, ASYNCIO, workload), "wall_s")
    ours = _metric(_find(rows, workload, LC, workload), "wall_s")
    lines = []
    for row in _rows_of(rows, workload):
        wall = _metric(row, "wall_s")
        tokens = _metric(row, "tokens")
        chunks = _metric(row, "chunks")
        peak = _metric(row, "peak_rss_mb")
        baseline = _metric(row, "rss_after_import_mb")
        lines.append(
            [
                row.spec.label,
                _fmt_time(wall) if row.runs else "ERROR",
                f"{tokens / wall:,.0f}" if wall and tokens else "-",
                f"{chunks:,.0f}" if chunks is not None else "-",
                _fmt_ratio(reference / wall if reference and wall else None),
                _fmt_ratio(wall / ours if wall and ours else None),
                f"{peak:.0f} MB ({baseline:.0f})" if peak and baseline else "-",
            ]
        )
    header = [
        "implementation",
        "wall",
        "tokens/s",
        "chunks",
        "vs asyncio",
        "lc speed-up",
        "peak RSS (after import)",
    ]
    return _table(header, lines)


def _latency_table(rows: list[Row]) -> str:
    lines = []
    reference = _find(rows, "latency", ASYNCIO, "latency")
    ref_first = _metric(reference, "first_token_s")
    ref_total = _metric(reference, "total_s")
    for row in _rows_of(rows, "latency"):
        first = _metric(row, "first_token_s")
        total = _metric(row, "total_s")
        lines.append(
            [
                row.spec.label,
                _fmt_time(first),
                f"{(first - ref_first) * 1000:+.2f} ms" if first and ref_first else "-",
                _fmt_time(total),
                f"{(total / ref_total - 1) * 100:+.2f}%" if total and ref_total else "-",
                _fmt_time(_metric(row, "cold_first_token_s")),
                _fmt_time(_metric(row, "cold_total_s")),
            ]
        )
    header = [
        "implementation",
        "first token",
        "vs asyncio",
        "last token",
        "vs asyncio",
        "cold first token",
        "cold last token",
    ]
    return _table(header, lines)


def _memory_table(rows: list[Row]) -> str:
    lines = []
    for row in _rows_of(rows, "memory"):
        best = row.best
        lines.append(
            [
                row.spec.label,
                _fmt_bytes(best.get("idle_stream_bytes")),
                _fmt_bytes(best.get("scheduled_stream_bytes")),
                _fmt_bytes(best.get("call_peak_bytes")),
                _fmt_bytes(best.get("call_retained_bytes")),
                _fmt_bytes(best.get("buffer_bytes_per_token")),
                _fmt_bytes(best.get("buffer_bytes_per_unique_token")),
            ]
        )
    header = [
        "implementation",
        "idle stream",
        "idle stream, scheduled",
        "call, peak",
        "call, retained",
        "buffer/token (shared str)",
        "buffer/token (unique str)",
    ]
    return _table(header, lines)


@dataclass
class Target:
    name: str
    measured: str
    passed: bool | None
    value: float | None
    threshold: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": self.measured,
            "value": self.value,
            "threshold": self.threshold,
            "status": self.status,
        }

    @property
    def status(self) -> str:
        return "n/a" if self.passed is None else ("PASS" if self.passed else "MISS")


def _speedup_target(
    rows: list[Row], workload: str, other: str, other_measurement: str, at_least: float, name: str
) -> Target:
    ours = _metric(_find(rows, workload, LC, workload), "wall_s")
    theirs = _metric(_find(rows, workload, other, other_measurement), "wall_s")
    if not ours or not theirs:
        return Target(name, "not measured", None, None, at_least)
    ratio = theirs / ours
    return Target(name, f"{ratio:.2f}x", ratio >= at_least, ratio, at_least)


def evaluate_targets(rows: list[Row]) -> list[Target]:
    targets = [
        _speedup_target(
            rows, "tree", ASYNCIO, "tree", 2.0, "(b) miniagents_lc >= 2x nested async generators"
        ),
        _speedup_target(rows, "tree", MA, "tree", 10.0, "(b) miniagents_lc >= 10x MiniAgents"),
        _speedup_target(
            rows,
            "astream",
            LANGCHAIN,
            "astream",
            10.0,
            "(c) miniagents_lc >= 10x LangChain nesting",
        ),
    ]
    reference = _find(rows, "latency", ASYNCIO, "latency")
    ours = _find(rows, "latency", LC, "latency")
    first, ref_first = _metric(ours, "first_token_s"), _metric(reference, "first_token_s")
    if first is not None and ref_first is not None:
        delta = (first - ref_first) * 1000
        targets.append(
            Target(
                "(d) first token <= asyncio's + 1 ms",
                f"{delta:+.2f} ms",
                delta <= 1.0,
                delta,
                1.0,
            )
        )
    cold, ref_cold = _metric(ours, "cold_first_token_s"), _metric(reference, "cold_first_token_s")
    if cold is not None and ref_cold is not None:
        delta = (cold - ref_cold) * 1000
        targets.append(
            Target(
                "(d) cold first token <= asyncio's + 8 ms",
                f"{delta:+.2f} ms",
                delta <= 8.0,
                delta,
                8.0,
            )
        )
    total, ref_total = _metric(ours, "total_s"), _metric(reference, "total_s")
    if total is not None and ref_total is not None:
        excess = (total / ref_total - 1) * 100
        targets.append(
            Target(
                "(d) total within 1% of asyncio's", f"{excess:+.2f}%", excess <= 1.0, excess, 1.0
            )
        )
    load_ours = _find(rows, "load", LC, "load")
    load_ref = _find(rows, "load", ASYNCIO, "load")
    wall, ref_wall = _metric(load_ours, "wall_s"), _metric(load_ref, "wall_s")
    if wall is not None and ref_wall is not None:
        ratio = wall / ref_wall
        targets.append(
            Target("(e) wall <= 1.2x asyncio's", f"{ratio:.2f}x", ratio <= 1.2, ratio, 1.2)
        )
    rss = _metric(load_ours, "peak_rss_mb")
    if rss is not None:
        targets.append(Target("(e) peak RSS <= 120 MB", f"{rss:.0f} MB", rss <= 120.0, rss, 120.0))
    targets.extend(impl_protocol.targets(rows, Target))
    return targets


def _source_state() -> dict[str, Any]:
    """The commit of the measured miniagents_lc, and whether its working tree differed."""

    def git(*args: str) -> str:
        completed = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        )
        return completed.stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD") or None,
        "uncommitted_changes": bool(git("status", "--porcelain", "--", "miniagents_lc")),
    }


def machine_info() -> dict[str, Any]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("miniagents-lc", "miniagents", "langchain-core", "pydantic", "psutil"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
    }


def render_report(
    rows: list[Row], targets: list[Target], machine: dict[str, Any], meta: dict[str, Any]
) -> str:
    parts = [
        f"Machine: {machine['nproc']} CPUs, {machine['cpu_model']}, Python {machine['python']}"
        f" ({machine['platform']})",
        f"Sizes: {meta['sizes']}; best of {meta['repeats']} (each run its own subprocess); "
        f"load average before/after: {meta['load_average_before']} / {meta['load_average_after']}",
    ]
    if meta.get("miniagents_python") != sys.executable:
        parts.append(f"MiniAgents 0.0.35 measured with: {meta['miniagents_python']}")
    for workload in WORKLOADS:
        if not _rows_of(rows, workload.key):
            continue
        parts.append(f"\n({workload.letter}) {workload.title}: {workload.description}")
        if workload.key == "latency":
            parts.append(_latency_table(rows))
        elif workload.key == "memory":
            parts.append(_memory_table(rows))
        elif workload.key == "events":
            parts.append(impl_protocol.table(rows))
        else:
            parts.append(_throughput_table(rows, workload.key))
        notes = [f"  - {row.spec.label}: {row.spec.note}" for row in _rows_of(rows, workload.key)]
        parts.extend(note for note in notes if not note.endswith(": "))
    parts.append(
        "\nvs asyncio = the asyncio row's wall time / this row's (above 1: faster than asyncio); "
        "lc speed-up = this row's wall time / miniagents_lc's main row (above 1: miniagents_lc "
        "is faster). Best of N = the minimum of each figure over N runs."
    )
    errors = [f"{row.spec.workload} {row.spec.key}: {e}" for row in rows for e in row.errors]
    if errors:
        parts.append("\nErrors:\n" + "\n".join(errors))
    caveat = " (defined for the full sizes: quick figures are a smoke run)"
    parts.append("\nTargets (miniagents_lc)" + (caveat if meta["sizes"] == "quick" else ""))
    parts.append(
        _table(
            ["target", "measured", "status"],
            [[target.name, target.measured, target.status] for target in targets],
        )
    )
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="miniagents_lc vs MiniAgents 0.0.35, LangChain nesting and plain asyncio.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat (smoke run)")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 3, quick 1)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument(
        "--workloads",
        help="comma-separated subset of: " + ", ".join(workload.key for workload in WORKLOADS),
    )
    parser.add_argument(
        "--implementations",
        help=f"comma-separated subset of: {LC}, {MA}, {LANGCHAIN}, {ASYNCIO}, {impl_protocol.V3}",
    )
    parser.add_argument(
        "--miniagents-python",
        help="interpreter with miniagents==0.0.35 (default: this one, or "
        ".venv-bench-miniagents/bin/python if miniagents is not importable here)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per subprocess")
    args = parser.parse_args(argv)

    sizes = "quick" if args.quick else "full"
    repeats = args.repeats or (1 if args.quick else 3)
    plan = list(PLAN)
    if args.workloads:
        wanted = set(args.workloads.split(","))
        unknown = wanted - set(WORKLOADS_BY_KEY)
        if unknown:
            parser.error(f"unknown workloads: {', '.join(sorted(unknown))}")
        plan = [spec for spec in plan if spec.workload in wanted]
    if args.implementations:
        chosen = set(args.implementations.split(","))
        plan = [spec for spec in plan if spec.implementation in chosen]

    miniagents_python = _miniagents_python(args.miniagents_python)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started_at = datetime.datetime.now(datetime.UTC)
    load_before = _load_average()
    started = time.perf_counter()
    rows = run_plan(
        plan,
        sizes=sizes,
        repeats=repeats,
        timeout=args.timeout,
        miniagents_python=miniagents_python,
        log=log,
    )
    duration = time.perf_counter() - started
    meta = {
        "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
        "miniagents_lc_source": _source_state(),
        "sizes": sizes,
        "sizes_detail": SIZES[sizes].as_dict(),
        "repeats": repeats,
        "started_at": started_at.isoformat(timespec="seconds"),
        "duration_s": round(duration, 1),
        "load_average_before": load_before,
        "load_average_after": _load_average(),
        "miniagents_python": miniagents_python,
    }
    machine = machine_info()
    targets = evaluate_targets(rows)
    print(render_report(rows, targets, machine, meta))
    print(f"\nTook {duration:.0f} s.")
    if not args.workloads and not args.implementations:
        # (h) agents as tools: self-contained, side by side with LangGraph (see impl_tools).
        print()
        subprocess.run(
            [sys.executable, "-m", "benchmarks.impl_tools", "--runs", str(repeats)],
            check=False,
        )
        # What `import miniagents_lc` costs beside LangChain's own (see import_time).
        print()
        subprocess.run(
            [sys.executable, "-m", "benchmarks.import_time", "--runs", str(max(repeats, 5))],
            check=False,
        )

    report = {
        "meta": meta,
        "machine": machine,
        "targets": [target.as_dict() for target in targets],
        "measurements": [
            {
                "workload": row.spec.workload,
                "implementation": row.spec.implementation,
                "measurement": row.spec.measurement,
                "label": row.spec.label,
                "note": row.spec.note,
                "interpreter": row.interpreter,
                "best": row.best,
                "runs": row.runs,
                "errors": row.errors,
            }
            for row in rows
        ],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"JSON written to {args.json}")
    return 1 if any(row.errors for row in rows) else 0
