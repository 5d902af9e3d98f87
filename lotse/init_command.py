"""``lotse init DIR``: a starting center (the example config, the settings file, an empty secrets file, a README)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from lotse.common import EXIT_FAILED, EXIT_OK, UsageError
from runtime.settings import Environment
from runtime.starting_center import README, StartingCenterError, existing, plan, write

HERE = Path(__file__).resolve().parent


def add_init_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    init = commands.add_parser(
        "init", help="write a starting center into DIR: the example config, the settings file, an empty secrets file, a README"
    )
    init.add_argument("dir", type=Path, metavar="DIR", help="the center's folder, e.g. /etc/lotse (made when missing)")
    init.add_argument("--force", action="store_true", help="overwrite the files that are there already (secrets.yaml too: it is emptied)")
    return (init,)


def example_center() -> Path:
    """The example center lotse ships: lotse/example in an installed wheel (setup.py maps it onto config/),
    the top-level config/ itself in a source checkout (pip install -e)."""
    shipped = HERE / "example"
    return shipped if shipped.is_dir() else HERE.parent / "config"


def _init(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    target = args.dir.absolute()
    if target.exists() and not target.is_dir():
        raise UsageError(f"argument DIR: {args.dir} is a file, not a folder")
    try:
        files = plan(example_center(), target)
    except StartingCenterError as exc:
        print(f"lotse init: {exc}", file=out)
        return EXIT_FAILED
    there = existing(files, target)
    if there and not args.force:
        raise UsageError(f"{len(there)} file(s) are there already: {', '.join(map(str, there))}; --force overwrites them")
    for path in write(files, target):
        print(f"wrote {path}", file=out)
    print(f"next steps: {target / README}", file=out)
    return EXIT_OK


INIT_COMMANDS = {"init": _init}
