"""``lotse promises`` (the service that keeps callbacks and tickets) and ``lotse tickets`` (the admin's view)."""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from lotse.common import (
    DB_HELP,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    db_argument,
    host_port,
    load_center,
    process_flags,
    process_options,
    setting,
)
from pbx import contract as c
from pbx.ami import AmiSettings
from promises.mail import Mailer
from promises.store import TICKET_STATES, Promises, Ticket, TicketError
from promises.worker import KeeperSettings
from routing.model import Center
from routing.promises import national
from runtime import settings as defaults
from runtime.promises import run_promises
from runtime.settings import Environment


def add_promise_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    promises = commands.add_parser("promises", help="take callback and ticket requests from the dialplan, call back, mail departments")
    setting(promises, "--config", "config", type=Path, required=True)
    setting(promises, "--db", "database.url", help=DB_HELP)
    setting(
        promises, "--spool", "promises.spool", type=Path, required=True, help="the dialplan's spool folder (lotse asterisk render --spool)"
    )
    setting(promises, "--prompts", "promises.prompts", help="the prompts folder as Asterisk sees it (default: the config's prompts_dir)")
    setting(promises, "--ami", "ami.address", metavar="HOST:PORT")
    promises.add_argument("--ami-user", default=c.AMI_USER_PROMISES, help="needs write = originate,reporting (see docs/callbacks.md)")
    setting(promises, "--smtp", "promises.smtp", metavar="HOST:PORT", help="mail server for departments' ticket notices; none: no mail")
    setting(promises, "--mail-from", "promises.mail_from")
    setting(promises, "--smtp-timeout", "promises.smtp_timeout", type=float, metavar="SECONDS", help="for each step of the SMTP dialogue")
    setting(promises, "--listen", "promises.listen", metavar="HOST:PORT", help="Prometheus endpoint (default %(default)s)")
    setting(
        promises, "--callback-wait", "promises.callback_wait", type=int, metavar="SECONDS", help="how long a callback waits for an agent"
    )
    setting(promises, "--api", "promises.api", metavar="HOST:PORT", help="serve the tickets' JSON API here (clients: lotse tokens)")
    setting(promises, "--api-tokens", "promises.api_tokens", type=Path, metavar="FILE", help=argparse.SUPPRESS)  # refused: see _promises
    setting(
        promises,
        "--retention-days",
        "promises.retention_days",
        type=int,
        metavar="N",
        help="blank the numbers of promises closed N days ago",
    )
    setting(promises, "--node", "node", help="this node's name in the leases (two nodes; default: the host name)")
    process_flags(promises)

    tickets = commands.add_parser("tickets", help="list, show, claim, close tickets (Rückmeldungen)")
    tickets.add_argument("action", choices=("list", "show", "claim", "done", "cancel"))
    tickets.add_argument("id", nargs="?", type=int, help="the ticket (for show, claim, done, cancel)")
    setting(tickets, "--config", "config", type=Path, required=True, help="for the time zone and the names")
    setting(tickets, "--db", "database.url", help=DB_HELP)
    tickets.add_argument("--status", choices=("open", *TICKET_STATES), help="list only these (open: open and in progress)")
    tickets.add_argument("--by", help="who claims or closes (default: $USER)")
    tickets.add_argument("--note", default="", help="what was done (for done and cancel)")
    tickets.add_argument("--json", action="store_true")
    return promises, tickets


def _promises(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    center = load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    ami_host, ami_port = host_port(args.ami, "--ami", defaults.AMI_ADDRESS)
    listen = host_port(args.listen, "--listen", defaults.PROMISES_LISTEN)
    if args.api_tokens is not None:
        raise UsageError(
            "promises.api_tokens (--api-tokens) is no longer read: the API's tokens are kept hashed in the database, each for one "
            f"department or an admin. Import each line of the file once: lotse tokens import {args.api_tokens} --name NAME --department ID "
            "(or --admin), then remove promises.api_tokens from the settings file and the file (docs/security.md, Ticket API)"
        )
    api = host_port(args.api, "--api", "127.0.0.1:9572") if args.api else None
    mailer = None
    if args.smtp:
        mailer = Mailer(*host_port(args.smtp, "--smtp", "mail.example:25"), sender=args.mail_from, timeout=args.smtp_timeout)
    settings = KeeperSettings(
        config=args.config,
        db_url=db_argument(args.db),
        spool=args.spool,
        ami=AmiSettings(ami_host, ami_port, args.ami_user, env.require_ami_secret("lotse promises")),
        mailer=mailer,
        prompts=args.prompts,
        callback_wait=args.callback_wait,
        retention_days=args.retention_days,
        api=api,
        node=args.node or "",
    )
    return run_promises(settings, listen, center.tz, process_options(args, env))


def _tickets(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    center = load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    if args.action != "list" and args.id is None:
        raise UsageError(f"tickets {args.action} needs the ticket's id, e.g. lotse tickets {args.action} 17")
    store = Promises.open(db_argument(args.db))
    now = time.time()
    try:
        if args.action == "list":
            found = store.tickets(args.status)
            if args.json:
                json.dump([_as_dict(t) for t in found], out, ensure_ascii=False, indent=2)
                print(file=out)
            else:
                print(_table(center, found, now) if found else "no tickets", file=out)
            return EXIT_OK
        if args.action == "show":
            ticket = store.ticket(args.id)
        elif args.action == "claim":
            ticket = store.claim(args.id, args.by or env.user, now)
        elif args.action == "done":
            ticket = store.done(args.id, args.by or env.user, args.note, now)
        else:
            ticket = store.cancel(args.id, args.by or env.user, args.note, now)
        if args.json:
            json.dump(_as_dict(ticket) | {"history": store.history(ticket.id)}, out, ensure_ascii=False, indent=2)
            print(file=out)
        else:
            print(_table(center, [ticket], now), file=out)
            for at, action, actor, note in store.history(ticket.id):
                print(f"  {_when(center, at)}  {action:<11} {actor}{': ' + note if note else ''}", file=out)
    except TicketError as exc:
        print(f"lotse tickets {args.action}: {exc}", file=out)
        return EXIT_FAILED
    finally:
        store.close()
    return EXIT_OK


def _as_dict(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in ticket.__slots__}


def _when(center: Center, stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp, center.tz).strftime("%Y-%m-%d %H:%M") if stamp is not None else "-"


def _table(center: Center, found: list[Ticket], now: float) -> str:
    lines = [f"{'id':>5}  {'status':<11} {'due':<16} {'tenant':<12} {'topic':<14} {'department':<20} {'number':<14} reason"]
    for t in found:
        late = " OVERDUE" if t.due is not None and t.due < now and t.status in ("open", "in_progress") else ""
        number = national(t.number, center.country_code) if t.number else "-"
        lines.append(
            f"{t.id:>5}  {t.status:<11} {_when(center, t.due):<16} {t.tenant or '-':<12} {t.topic or '-':<14} "
            f"{t.department or '-':<20} {number:<14} {t.reason}{late}"
        )
    return "\n".join(lines)


PROMISE_COMMANDS = {"promises": _promises, "tickets": _tickets}
