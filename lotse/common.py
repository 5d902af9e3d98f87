"""What the lotse subcommands share: exit codes, usage errors, loading the config with its report."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from routing.loader import LoadResult, load
from routing.model import Center
from runtime import settings as defaults
from stores.db import StoreError, database_url

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


def host_port(text: str, argument: str, example: str) -> tuple[str, int]:
    """HOST:PORT of a command-line argument; a UsageError names the argument and gives an example."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise UsageError(f"argument {argument}: '{text}' must be HOST:PORT, e.g. {example}")
    return host, int(port)


DB_HELP = (
    "the call records: a file path (SQLite) or a SQLAlchemy URL such as postgresql+psycopg://lotse@db/lotse"
    f" (default {defaults.DATABASE_URL})"
)


def db_argument(text: str) -> str:
    """The SQLAlchemy URL of a --db argument; a UsageError names what is wrong."""
    try:
        return database_url(text)
    except StoreError as exc:
        raise UsageError(f"argument --db: {exc}") from None
