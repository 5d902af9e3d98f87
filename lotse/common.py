"""What the lotse subcommands share: exit codes, usage errors, loading the config with its report."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TextIO

import uvloop

from routing.loader import LoadResult, load
from routing.model import Center

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A command-line argument is wrong; the message names it."""


def report_problems(result: LoadResult, out: TextIO, quiet: bool = False) -> None:
    for problem in result.problems:
        if quiet and problem.severity.value == "warning":
            continue
        print(problem, file=out)


def load_center(path: Path, out: TextIO) -> Center | None:
    result = load(path)
    if result.center is None:
        report_problems(result, out, quiet=True)
        print(f"{path}: invalid config; fix the errors above (lotse validate {path})", file=out)
    return result.center


LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop] | None] = {"uvloop": uvloop.new_event_loop, "asyncio": None}


def run_async(main: Coroutine[Any, Any, int], loop: str = "uvloop") -> int:
    """Run a long-running command's coroutine on the chosen event loop (uvloop by default: less CPU per call)."""
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        return runner.run(main)
