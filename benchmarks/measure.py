"""One measurement in this process: `python -m benchmarks.measure IMPL MEASUREMENT SIZES`.

Prints one JSON object on the last line of stdout: the measurement's numbers, plus the peak
RSS of this process (ru_maxrss) and its RSS once the implementation was imported. The runner
starts one such process per repeat, so no measurement sees another's heap, caches or warm-up.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import platform
import sys
from typing import Any

from benchmarks.workloads import SIZES, peak_rss_mb

IMPLEMENTATIONS = {
    "miniagents_lc": "benchmarks.impl_miniagents_lc",
    "miniagents": "benchmarks.impl_miniagents",
    "langchain": "benchmarks.impl_langchain",
    "asyncio": "benchmarks.impl_asyncio",
    "protocol_v3": "benchmarks.impl_protocol",
}


def _current_rss_mb() -> float:
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:  # an interpreter without the `bench` extra: Linux only
        import resource

        with open("/proc/self/statm") as statm:
            resident_pages = int(statm.read().split()[1])
        return resident_pages * resource.getpagesize() / (1024 * 1024)
    return float(psutil.Process().memory_info().rss) / (1024 * 1024)


def run(implementation: str, measurement: str, sizes_name: str) -> dict[str, Any]:
    module = importlib.import_module(IMPLEMENTATIONS[implementation])
    measurements = module.MEASUREMENTS
    if measurement not in measurements:
        raise SystemExit(f"{implementation} has no measurement {measurement!r}")
    rss_after_import = _current_rss_mb()
    measure = measurements[measurement]
    sizes = SIZES[sizes_name]
    if measurement.startswith("latency"):
        # Latency is reported warm (the second run in this process): the first run of any
        # LangChain-based stack also pays one-off lazy imports (tracers, langsmith, tenacity:
        # ~7 ms). The cold figures are kept beside the warm ones.
        cold = measure(sizes)
        # The warm run starts from a collected heap: otherwise whether the collector's pass
        # over the cold run's garbage lands in the warm run's first milliseconds (a 2.5 ms
        # pause, seen) depends on how many objects the imports happened to allocate.
        gc.collect()
        result: dict[str, Any] = dict(measure(sizes))
        result["cold_first_token_s"] = cold["first_token_s"]
        result["cold_total_s"] = cold["total_s"]
    else:
        result = dict(measure(sizes))
    result["rss_after_import_mb"] = rss_after_import
    # ru_maxrss is the kernel's high-water mark; it can trail the current RSS slightly.
    result["peak_rss_mb"] = max(peak_rss_mb(), _current_rss_mb())
    result["python"] = platform.python_version()
    result["executable"] = sys.executable
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("implementation", choices=sorted(IMPLEMENTATIONS))
    parser.add_argument("measurement")
    parser.add_argument("sizes", choices=sorted(SIZES))
    args = parser.parse_args(argv)
    result = run(args.implementation, args.measurement, args.sizes)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
