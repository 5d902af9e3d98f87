"""``lotse db upgrade`` (run the migrations, after a backup) and ``lotse db status`` (where the schema stands)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from lotse.common import DB_HELP, EXIT_FAILED, EXIT_OK, db_argument, setting
from runtime.settings import Environment
from stores.db import read_schema, upgrade


def add_db_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    db = commands.add_parser("db", help="the database's schema: upgrade it to this lotse's (back it up first), or show where it stands")
    db.add_argument("action", choices=("upgrade", "status"), help="upgrade: run the migrations; status: exit 0 when no upgrade is needed")
    setting(db, "--db", "database.url", help=DB_HELP)  # the services' database, from the settings file unless given
    return (db,)


def _db(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    """A StoreError (unreachable, newer than this lotse) goes up to lotse.cli, which prints it and exits 1."""
    url = db_argument(args.db)
    if args.action == "upgrade":
        before = upgrade(url)
        if before.state == "current":
            print(f"database {before.url} already at {before.head}", file=out)
        elif before.state == "empty":
            print(f"database {before.url} created at {before.head}", file=out)
        else:
            print(f"database {before.url} upgraded from {before.revision} to {before.head}", file=out)
        return EXIT_OK
    schema = read_schema(url)
    verdict = {
        "current": "current",
        "empty": "empty",
        "older": "upgrade needed",
        "newer": "newer than this lotse",
        "unversioned": "no schema revision",
    }[schema.state]
    print(f"database:   {schema.url}", file=out)
    print(f"schema:     {schema.revision or 'none'}", file=out)
    print(f"this lotse: {schema.head}", file=out)
    print(f"status:     {verdict}{': ' + schema.advice() if schema.advice() else ''}", file=out)
    return EXIT_OK if schema.state == "current" else EXIT_FAILED


DB_COMMANDS = {"db": _db}
