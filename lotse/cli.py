"""The ``lotse`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from lotse import __version__
from lotse.asterisk_command import ASTERISK_COMMANDS, add_asterisk_parsers
from lotse.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, apply_settings
from lotse.config_command import CONFIG_COMMANDS, add_config_parsers
from lotse.db_command import DB_COMMANDS, add_db_parsers
from lotse.init_command import INIT_COMMANDS, add_init_parsers
from lotse.metrics_command import METRIC_COMMANDS, add_metric_parsers
from lotse.promises_command import PROMISE_COMMANDS, add_promise_parsers
from lotse.serve_command import SERVE_COMMANDS, add_serve_parsers
from lotse.settings_command import SETTINGS_COMMANDS, add_settings_parsers
from lotse.tokens_command import TOKEN_COMMANDS, add_token_parsers
from lotse.web_command import WEB_COMMANDS, add_web_parsers
from runtime.settings import Environment, SettingsError
from runtime.settings_file import SettingsFile, settings_path
from stores.db import StoreError


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The ``lotse`` command; the environment (``os.environ`` unless given) and the settings file are read here, once."""
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        env = Environment.read(os.environ if environ is None else environ)
    except SettingsError as exc:
        parser.error(str(exc))
    try:
        env, args.settings_file = settings(args, env)
    except SettingsError as exc:
        print(f"lotse: {exc}", file=sys.stderr)  # the file's problems with their places; the usage would hide them
        return EXIT_USAGE
    except UsageError as exc:
        args.command_parser.error(str(exc))
    handler = {
        **CONFIG_COMMANDS,
        **INIT_COMMANDS,
        **SERVE_COMMANDS,
        **ASTERISK_COMMANDS,
        **METRIC_COMMANDS,
        **PROMISE_COMMANDS,
        **TOKEN_COMMANDS,
        **WEB_COMMANDS,
        **SETTINGS_COMMANDS,
        **DB_COMMANDS,
    }[args.command]
    try:
        return handler(args, env, out)
    except BrokenPipeError:  # e.g. lotse validate --json | head: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exit's flush prints nothing
        return EXIT_OK
    except StoreError as exc:  # the database cannot be used (an older schema, say): the message says what to run
        print(exc, file=out)
        return EXIT_FAILED
    except (UsageError, SettingsError) as exc:
        args.command_parser.error(str(exc))  # exits with EXIT_USAGE
        raise  # pragma: no cover


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Call routing and IVR for public-administration service centers.")
    parser.add_argument("--version", action="version", version=f"lotse {__version__}")
    parser.add_argument(
        "--settings",
        type=Path,
        metavar="FILE",
        help="the settings file (default: $LOTSE_SETTINGS, or /etc/lotse/lotse.yaml if it exists)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    groups = (
        add_config_parsers,
        add_init_parsers,
        add_serve_parsers,
        add_asterisk_parsers,
        add_metric_parsers,
        add_promise_parsers,
        add_token_parsers,
        add_web_parsers,
        add_settings_parsers,
        add_db_parsers,
    )
    for add in groups:
        for command in add(commands):
            command.set_defaults(command_parser=command, root_parser=parser)  # a usage error names the subcommand's usage
    return parser


def settings(args: argparse.Namespace, env: Environment) -> tuple[Environment, SettingsFile]:
    """Fill the flags bound to the settings file from it; the AMI secret from the environment, else the secrets file."""
    path = settings_path(args.settings, env.settings_file)
    file = SettingsFile.read(path, env.values or {}) if path is not None else SettingsFile()
    args.effective = apply_settings(args, file)
    return replace(env, ami_secret=env.ami_secret or file.secrets.ami_secret or ""), file


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
