"""``lotse tokens``: the ticket API's clients (promises.tokens): add one for a department or an admin, list, revoke, import."""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from lotse.common import DB_HELP, EXIT_FAILED, EXIT_OK, UsageError, db_argument, load_center, setting
from promises.store import Promises
from promises.tokens import Client, TokenError, Tokens, read_tokens
from routing.model import Center
from runtime.settings import Environment


def add_token_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    tokens = commands.add_parser("tokens", help="the ticket API's clients: a token per department, or an admin's; list, revoke")
    tokens.add_argument("action", choices=("add", "list", "revoke", "import"))
    tokens.add_argument("target", nargs="?", help="revoke: the token's id (lotse tokens list); import: the old 'name token' file")
    scope = tokens.add_mutually_exclusive_group()
    scope.add_argument("--department", metavar="ID", help="add, import: the department whose tickets it may see and move")
    scope.add_argument("--admin", action="store_true", help="add, import: every ticket, of every department and of none")
    tokens.add_argument("--name", help="who the client is in a ticket's history (default: the department's id, or admin)")
    setting(tokens, "--config", "config", type=Path, required=True, help="for the departments and the time zone")
    setting(tokens, "--db", "database.url", help=DB_HELP)
    return (tokens,)


def _tokens(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    center = load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    if args.action in ("add", "import"):
        _check_scope(args, center)
    if args.action in ("revoke", "import") and not args.target:
        raise UsageError(f"tokens {args.action} needs {'the token id' if args.action == 'revoke' else 'the tokens file'}")
    if args.action == "revoke" and not args.target.isdigit():
        raise UsageError(f"tokens revoke: '{args.target}' is not a token id (lotse tokens list shows them)")
    store = Promises.open(db_argument(args.db))
    tokens, now = Tokens(store.engine), time.time()
    try:
        if args.action == "list":
            print(_table(center, tokens.all()), file=out)
        elif args.action == "revoke":
            client = tokens.revoke(int(args.target), now)
            print(f"token {client.id} '{client.name}' ({_scope(center, client)}) revoked: the API refuses it from now on", file=out)
        elif args.action == "add":
            client, secret = tokens.add(args.name or args.department or "admin", args.department, now)
            print(f"token {client.id} '{client.name}' for {_scope(center, client, long=True)}:\n{secret}", file=out)
            print("It is shown only now: give it to the client; lotse keeps only its hash.", file=out)
        else:
            client = tokens.add(args.name, args.department, now, _imported(Path(args.target), args.name))[0]
            print(f"token {client.id} '{client.name}' for {_scope(center, client, long=True)}: imported from the file", file=out)
    except (TokenError, OSError) as exc:
        print(f"lotse tokens {args.action}: {exc}", file=out)
        return EXIT_FAILED
    finally:
        store.close()
    return EXIT_OK


def _check_scope(args: argparse.Namespace, center: Center) -> None:
    if not args.department and not args.admin:
        raise UsageError(f"tokens {args.action} needs --department ID or --admin (a token for every ticket)")
    if args.department and args.department not in center.departments:
        known = ", ".join(sorted(center.departments))
        raise UsageError(f"argument --department: no department '{args.department}' in the config; it has {known}")
    if args.action == "import" and not args.name:
        raise UsageError("tokens import needs --name NAME: the line of the file to import (one client each time)")


def _imported(path: Path, name: str) -> str:
    found = read_tokens(path)
    if name not in found:
        raise TokenError(f"{path} has no line for '{name}'; it has {', '.join(found)}")
    return found[name]


def _scope(center: Center, client: Client, long: bool = False) -> str:
    if client.department is None:
        return "every ticket (admin)" if long else "admin"
    department = center.departments.get(client.department)
    if department is None:
        return f"{client.department} (not in the config)"
    return f"{department.name} ({client.department})" if long else department.name


def _table(center: Center, clients: list[Client]) -> str:
    if not clients:
        return "no tokens (lotse tokens add --department ID, or --admin)"

    def when(stamp: float | None) -> str:
        return datetime.fromtimestamp(stamp, center.tz).strftime("%Y-%m-%d %H:%M") if stamp is not None else "-"

    lines = [f"{'id':>4}  {'name':<20} {'scope':<32} {'created':<16} revoked"]
    for c in clients:
        lines.append(f"{c.id:>4}  {c.name:<20} {_scope(center, c):<32} {when(c.created):<16} {when(c.revoked)}")
    return "\n".join(lines)


TOKEN_COMMANDS = {"tokens": _tokens}
