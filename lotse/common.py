"""What the lotse subcommands share: exit codes, usage errors, loading the config with its report."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from routing.loader import LoadResult, load
from routing.model import Center
from runtime import settings as defaults
from runtime.process import Notifier, Options
from runtime.settings import Environment
from runtime.settings_file import KEYS, SettingsFile, Value
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


_KEY_DEFAULT = object()  # setting(): the key's own default (KEYS), not one of the command's


@dataclass(frozen=True)
class Binding:
    """A flag bound to a key of the settings file (runtime.settings_file.KEYS)."""

    flag: str
    key: str
    default: Any
    required: bool


def setting(parser: argparse.ArgumentParser, flag: str, key: str, default: Any = _KEY_DEFAULT, required: bool = False, **kw: Any) -> None:
    """Add ``flag``, bound to the settings file's ``key``: the flag's value, else the file's, else ``default`` (else
    the key's). ``required``: one of the flag and the file must give it."""
    action = parser.add_argument(flag, default=None, **kw)
    bindings = dict(parser.get_default("settings_bindings") or {})
    bindings[action.dest] = Binding(flag, key, KEYS[key].default if default is _KEY_DEFAULT else default, required)
    parser.set_defaults(settings_bindings=bindings)


def apply_settings(args: argparse.Namespace, file: SettingsFile, check: bool = True) -> dict[str, Value]:
    """Give each bound flag its effective value in ``args``; returns each key's value and where it came from.
    A required one that neither the flag nor the file gives is a UsageError (``check``) or shown as missing."""
    effective = {}
    bindings: dict[str, Binding] = getattr(args, "settings_bindings", None) or {}
    for dest, binding in bindings.items():
        given = getattr(args, dest)
        if given is not None:
            value = Value(given, f"flag {binding.flag}")
        elif binding.key in file.values:
            value = file.values[binding.key]
        else:
            value = Value(list(binding.default or ()) if KEYS[binding.key].many else binding.default, "default")
        if binding.required and value.value is None and not check:
            value = Value(None, f"missing: {binding.flag} or '{binding.key}' in the settings file")
        elif binding.required and value.value is None:
            raise UsageError(f"the argument {binding.flag} is required (or '{binding.key}' in the settings file)")
        setattr(args, dest, value.value)
        effective[binding.key] = value
    return effective


def process_flags(parser: argparse.ArgumentParser, loop: bool = True) -> None:
    """The flags every long-running process has: its event loop and its log format."""
    if loop:
        setting(parser, "--loop", "loop", choices=("uvloop", "asyncio"), help="event loop (default uvloop: less CPU per call)")
    setting(parser, "--log-format", "log.format", choices=("text", "json"), help="log lines as text (default) or JSON (docs/operations.md)")


def process_options(args: argparse.Namespace, env: Environment) -> Options:
    """How the process runs: the flags of process_flags and systemd's notification socket."""
    return Options(getattr(args, "loop", "uvloop"), args.log_format, Notifier(env.notify_socket, env.watchdog_usec))
