"""`python -m miniagents_lc` and `miniagents-lc-demo`: the team's agent tree live (or its answer
as one stream, with `--plain`), then the measured figures.

This module loads only the standard library: the question is on the screen before LangChain
and the agents load (`miniagents_lc.demo.session`), and Ctrl-C at any moment, those imports
included, ends the demo with one line.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.util
import os
import platform
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn, TextIO

from miniagents_lc.demo.text import DEFAULT_QUESTION

OPENAI_ADAPTER_INSTALL = 'pip install -e . -e "./adapters/openai"'
"""How to install the OpenAI adapter from a clone of the repository (at its root)."""


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Parse the command line and run the demo; returns the process exit code.

    `prog` is the command's name in `--help` and errors (by default the name it was started
    by, so `miniagents-lc-demo` names itself)."""
    loop_errors: list[str] = []
    traceback = False
    try:
        args = _parser(prog).parse_args(argv)
        traceback = args.traceback
        _write_heading(args, sys.stdout)
        from miniagents_lc.demo.session import run  # LangChain and the agents load here

        code = asyncio.run(run(args, sys.stdout, loop_errors))
        for message in loop_errors:
            sys.stderr.write(f"warning: {message}\n")
        return code
    except KeyboardInterrupt:
        _end_line(sys.stdout)
        sys.stderr.write(f"Interrupted.{_hidden(loop_errors)}\n")
        return 130
    except Exception as error:
        if traceback:
            raise
        _end_line(sys.stdout)
        sys.stderr.write(f"error: {describe_failure(error)}{_hidden(loop_errors)}\n")
        return 1


def _parser(prog: str | None) -> _Parser:
    parser = _Parser(
        prog=prog,
        description=(
            "Live demo: an LCEL chain `prompt | team | StrOutputParser()` where `team` asks "
            "specialist agents in parallel (one asks a sub-specialist) and the answer streams "
            "as one continuous text. Offline by default, on an embedded scripted model."
        ),
    )
    parser.add_argument("question", nargs="?", default=DEFAULT_QUESTION, help="what to ask")
    parser.add_argument(
        "--openai",
        metavar="MODEL",
        help="run the same team on the real OpenAI API (needs OPENAI_API_KEY and the OpenAI "
        f"adapter: {OPENAI_ADAPTER_INSTALL}), e.g. gpt-4o-mini",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--tree",
        action="store_true",
        help="draw the agent tree live while it works (the default; plain text off a terminal)",
    )
    shown.add_argument(
        "--plain", action="store_true", help="stream the answer as one continuous text instead"
    )
    shown.add_argument(
        "--events", action="store_true", help="print the astream_events run tree instead"
    )
    parser.add_argument(
        "--traceback", action="store_true", help="on an error, print its whole traceback"
    )
    parser.add_argument("--version", action="version", version=version_line())
    return parser


class _Parser(argparse.ArgumentParser):
    """Checks what the chosen model needs before anything is written or loaded."""

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: None = None
    ) -> argparse.Namespace:
        parsed = super().parse_args(args, namespace)
        if parsed.openai:
            if not os.environ.get("OPENAI_API_KEY"):
                self.error("--openai needs the OPENAI_API_KEY environment variable to be set")
            if importlib.util.find_spec("miniagents_lc_openai") is None:
                self.error(
                    "--openai needs the OpenAI adapter, which is not installed: from the "
                    f"root of a clone of the repository, {OPENAI_ADAPTER_INSTALL}"
                )
        return parsed


def version_line() -> str:
    """What `--version` prints: this package's version, LangChain's and Python's."""

    def version(distribution: str) -> str:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return "(not installed)"

    return (
        f"miniagents-lc {version('miniagents-lc')} (langchain-core "
        f"{version('langchain-core')}, Python {platform.python_version()})"
    )


def _write_heading(args: argparse.Namespace, out: TextIO) -> None:
    if args.events:  # the run tree is the whole output
        return
    where = f"OpenAI model {args.openai}" if args.openai else "the embedded scripted model"
    out.write(f"Question: {args.question}\nTeam answering on {where}:\n\n")
    out.flush()


def _hidden(loop_errors: list[str]) -> str:
    if not loop_errors:
        return ""
    return f" ({len(loop_errors)} more errors while stopping; --traceback shows them)"


def _end_line(out: TextIO) -> None:
    """Leave a partly streamed answer on its own line before the message that ends the run."""
    out.write("\n")
    out.flush()


@dataclass(frozen=True)
class Provider:
    """What the advice for a failed run names: the API's key and base URL variables, and
    where the model was chosen."""

    key_variable: str
    base_url_variable: str
    model_choice: str


OPENAI = Provider("OPENAI_API_KEY", "OPENAI_BASE_URL", "the model name given to --openai")
"""The demo's provider (and the OpenAI examples')."""

ANTHROPIC = Provider("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "the model name")
"""The Anthropic examples' provider."""


def _advice(provider: Provider) -> tuple[tuple[tuple[str, ...], str], ...]:
    """What to do about an error, by the name of its class or of one of its bases."""
    return (
        (
            ("AuthenticationError", "PermissionDeniedError"),
            f"Check that {provider.key_variable} holds a valid key",
        ),
        (("NotFoundError",), f"Check {provider.model_choice}"),
        (("RateLimitError",), "Wait a little, or check the quota of the account, then run again"),
        (
            (
                "APIConnectionError",
                "APITimeoutError",
                "ConnectError",
                "TimeoutError",
                "ConnectionError",
                "OSError",
            ),
            f"Check the network connection and {provider.base_url_variable} if set, then run again",
        ),
        (("APIStatusError", "APIError"), "The API refused the request: run again later"),
    )


def _install_advice(error: ImportError) -> str:
    missing = error.name or ""
    if missing.split(".")[0] in {"miniagents_lc_openai", "openai"}:
        return f"Install the OpenAI adapter and its SDK: {OPENAI_ADAPTER_INSTALL}"
    return f"Install what is missing (from a clone: pip install -e .), module {missing!r}"


def describe_failure(error: BaseException, provider: Provider = OPENAI) -> str:
    """One line for a failed run: which agent failed, with what, and what to do (found from
    the error or from the errors that caused it: an adapter's own error keeps the SDK's)."""
    notes: list[str] = list(getattr(error, "__notes__", ()))
    agent = next(
        (
            note.split("agent ", 1)[1]
            for prefix in ("raised in agent ", "passed through the replies of agent ")
            for note in notes
            if note.startswith(prefix)
        ),
        None,
    )
    where = f"agent {agent} failed" if agent is not None else "the run failed"
    advice = (
        _install_advice(error)
        if isinstance(error, ImportError)
        else next(
            (
                text
                for cause in _causes(error)
                for names, text in _advice(provider)
                if {cls.__name__ for cls in type(cause).__mro__}.intersection(names)
            ),
            "This is unexpected: please report it",
        )
    )
    summary = (str(error).strip().splitlines() or [""])[0].rstrip(".")
    detail = f"{type(error).__name__}: {summary}" if summary else type(error).__name__
    return f"{where} with {detail}. {advice} (--traceback prints the details)."


def _causes(error: BaseException) -> list[BaseException]:
    """`error`, then the error it was raised from (`raise ... from`), and so on (each once)."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__
    return chain


def run_program(main: Callable[[], Awaitable[object]], provider: Provider = OPENAI) -> NoReturn:
    """Run `main()` the way the demo runs (the examples end with it): a failure is one line
    on stderr naming what to do (`--traceback` on the command line shows the whole
    traceback instead), Ctrl-C is `Interrupted.`; exits with 0, 1 or 130."""

    async def program() -> None:
        await main()

    try:
        asyncio.run(program())
    except KeyboardInterrupt:
        _end_line(sys.stdout)
        sys.stderr.write("Interrupted.\n")
        sys.exit(130)
    except Exception as error:
        if "--traceback" in sys.argv[1:]:
            raise
        _end_line(sys.stdout)
        sys.stderr.write(f"error: {describe_failure(error, provider)}\n")
        sys.exit(1)
    sys.exit(0)


__all__ = [
    "ANTHROPIC",
    "OPENAI",
    "OPENAI_ADAPTER_INSTALL",
    "Provider",
    "describe_failure",
    "main",
    "run_program",
    "version_line",
]
