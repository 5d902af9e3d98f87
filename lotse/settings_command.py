"""``lotse settings``: the effective settings and where each came from (flag, file, environment, default)."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from lotse.common import EXIT_OK, UsageError, apply_settings
from runtime.settings import Environment
from runtime.settings_file import KEYS, SettingsFile, Value, schema
from stores.db import database_url, shown

MASK = "********"


def add_settings_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    settings = commands.add_parser(
        "settings",
        help="print the effective settings and where each came from, secrets masked",
        description="Without a command: every key of the settings file. With one (e.g. lotse settings metrics --db x.db):"
        " the values that command would run with.",
    )
    settings.add_argument("command_line", nargs=argparse.REMAINDER, metavar="COMMAND ...", help="a lotse command line to explain")
    settings.add_argument("--schema", action="store_true", help="print the settings file's JSON Schema instead")
    return (settings,)


def _settings(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    if args.schema:
        print(json.dumps(schema(), indent=2, ensure_ascii=False), file=out)
        return EXIT_OK
    file: SettingsFile = args.settings_file
    if args.command_line:
        explained = args.root_parser.parse_args(args.command_line)
        if explained.command == "settings":
            raise UsageError("lotse settings explains another command, e.g. lotse settings metrics")
        effective = apply_settings(explained, file, check=False)
    else:
        effective = {name: file.values.get(name, Value(key.default, "default")) for name, key in KEYS.items()}
    print(f"settings file: {file.path or 'none (flags and defaults only)'}", file=out)
    rows = [(name, _shown(name, value.value), value.source) for name, value in sorted(effective.items())]
    rows.append(("ami_secret", *_secret(env, file)))
    width = max(len(name) for name, _, _ in rows)
    shown_width = min(48, max(len(text) for _, text, _ in rows))
    for name, text, source in rows:
        print(f"{name:<{width}}  {text:<{shown_width}}  {source}", file=out)
    for warning in file.warnings:
        print(f"warning: {warning}", file=out)
    return EXIT_OK


def _shown(name: str, value: Any) -> str:
    if value is None or value in ([], ""):
        return "(none)"
    if name == "database.url":
        return shown(database_url(str(value)))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def _secret(env: Environment, file: SettingsFile) -> tuple[str, str]:
    if env.values and env.values.get("LOTSE_AMI_SECRET"):
        return MASK, "environment LOTSE_AMI_SECRET"
    if file.secrets.ami_secret:
        return MASK, f"secrets file {file.values['secrets'].value}"
    return "(none)", "not set: LOTSE_AMI_SECRET or ami_secret in the secrets file"


SETTINGS_COMMANDS = {"settings": _settings}
