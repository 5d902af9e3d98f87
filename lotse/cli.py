"""The ``lotse`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from lotse import __version__
from lotse.asterisk_command import ASTERISK_COMMANDS, add_asterisk_parsers
from lotse.common import EXIT_OK, UsageError
from lotse.config_command import CONFIG_COMMANDS, add_config_parsers
from lotse.init_command import INIT_COMMANDS, add_init_parsers
from lotse.metrics_command import METRIC_COMMANDS, add_metric_parsers
from lotse.promises_command import PROMISE_COMMANDS, add_promise_parsers
from lotse.serve_command import SERVE_COMMANDS, add_serve_parsers
from lotse.web_command import WEB_COMMANDS, add_web_parsers
from runtime.settings import Environment, SettingsError


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The ``lotse`` command; the environment (``os.environ`` unless given) is read here, once."""
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        env = Environment.read(os.environ if environ is None else environ)
    except SettingsError as exc:
        parser.error(str(exc))
    handler = {
        **CONFIG_COMMANDS,
        **INIT_COMMANDS,
        **SERVE_COMMANDS,
        **ASTERISK_COMMANDS,
        **METRIC_COMMANDS,
        **PROMISE_COMMANDS,
        **WEB_COMMANDS,
    }[args.command]
    try:
        return handler(args, env, out)
    except BrokenPipeError:  # e.g. lotse validate --json | head: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exit's flush prints nothing
        return EXIT_OK
    except (UsageError, SettingsError) as exc:
        args.command_parser.error(str(exc))  # exits with EXIT_USAGE
        raise  # pragma: no cover


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Call routing and IVR for public-administration service centers.")
    parser.add_argument("--version", action="version", version=f"lotse {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for add in (
        add_config_parsers,
        add_init_parsers,
        add_serve_parsers,
        add_asterisk_parsers,
        add_metric_parsers,
        add_promise_parsers,
        add_web_parsers,
    ):
        for command in add(commands):
            command.set_defaults(command_parser=command)  # a usage error names the subcommand's own usage
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
