"""Benchmarks of miniagents_lc against MiniAgents 0.0.35, LangChain nesting and plain asyncio.

Run by hand, never by the test command: `python -m benchmarks` (add `--quick` for a smoke
run). Each measurement runs in its own subprocess; see docs/performance.md for the figures.
Remote streaming (plain SSE, LangServe and `RemoteAgent` side by side) has a runner of its own:
`python -m benchmarks.remote` (module `benchmarks.remote`).
"""
