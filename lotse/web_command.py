"""``lotse web`` (wallboard, agent and supervisor pages) and ``lotse user`` (its users file)."""

from __future__ import annotations

import argparse
import getpass
import sys
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
from render.agents import load_agents
from routing.problems import ConfigError
from runtime import settings as defaults
from runtime.settings import Environment
from runtime.web import WebSettings, run_web
from web.users import Role, UsersError, UsersFile, remove_user, set_user


def add_web_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    web = commands.add_parser("web", help="the web app: wallboard, agent and supervisor pages, reports")
    setting(web, "--config", "config", type=Path, required=True)
    setting(web, "--agents", "agents", type=Path, required=True, help="agents.yaml (who may log in from which phone)")
    setting(web, "--users", "web.users", type=Path, required=True, help="the users file (lotse user add ...)")
    setting(web, "--listen", "web.listen", metavar="HOST:PORT")
    setting(web, "--db", "database.url", help=DB_HELP)
    setting(web, "--redis", "redis.url", default=defaults.REDIS_URL, metavar="URL", help="the live state lotse metrics --redis keeps")
    web.add_argument("--redis-prefix", default="lotse", help=argparse.SUPPRESS)  # the benchmark's own keys
    setting(
        web,
        "--ami",
        "web.ami",
        metavar="HOST:PORT",
        help=f"Asterisk's AMI for agents' log-in and pause (user {c.AMI_USER_WEB}; secret: $LOTSE_AMI_SECRET)",
    )
    web.add_argument("--ami-user", default=c.AMI_USER_WEB)
    setting(web, "--queue-log", "queue_log", type=Path, metavar="PATH", help="Asterisk's queue_log: agents' figures on the reports page")
    setting(
        web,
        "--secret-file",
        "web.secret_file",
        type=Path,
        help="the key that signs sessions (made, mode 600, when missing); none: new at each start",
    )
    process_flags(web, loop=False)
    setting(web, "--https-only", "web.https_only", action="store_true", help="session cookie only over HTTPS (behind a TLS proxy)")
    setting(web, "--idle-minutes", "web.idle_minutes", type=int, metavar="N", help="a session not used for N minutes ends")
    user = commands.add_parser("user", help="add or change a user of lotse web (the password from $LOTSE_WEB_PASSWORD or asked)")
    user.add_argument("id")
    setting(user, "--users", "web.users", type=Path, required=True)
    user.add_argument("--role", choices=[r.name.lower() for r in Role], help="required unless --remove")
    user.add_argument("--remove", action="store_true", help="remove the user: their sessions end at their next request")
    user.add_argument("--name", default="", help="shown on the pages (default: the id)")
    user.add_argument("--agent", default="", help="the agent id in agents.yaml (for role agent)")
    return web, user


def _user(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    if args.remove:
        return _remove_user(args, out)
    if args.role is None:
        raise UsageError("the argument --role is required (or --remove)")
    role = Role[args.role.upper()]
    if role is Role.AGENT and not args.agent:
        raise UsageError("argument --agent: an agent's login needs their id in agents.yaml")
    password = env.web_password or (getpass.getpass(f"password for {args.id}: ") if sys.stdin.isatty() else "")
    if not password:
        print("no password: set LOTSE_WEB_PASSWORD or run in a terminal", file=out)
        return EXIT_FAILED
    try:
        set_user(args.users, args.id, role, password, args.name, args.agent)
    except UsersError as exc:
        print(f"{args.users}: {exc}", file=out)
        return EXIT_FAILED
    print(f"{args.users}: {args.id} ({role.name.lower()}) saved", file=out)
    return EXIT_OK


def _remove_user(args: argparse.Namespace, out: TextIO) -> int:
    try:
        remove_user(args.users, args.id)
    except UsersError as exc:
        print(exc, file=out)
        return EXIT_FAILED
    print(f"{args.users}: {args.id} removed; lotse web ends their sessions at their next request", file=out)
    return EXIT_OK


def _web(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    listen = host_port(args.listen, "--listen", defaults.WEB_LISTEN)
    if args.idle_minutes < 1:
        raise UsageError(f"argument --idle-minutes: {args.idle_minutes} would end every session at once; give at least 1")
    ami = None
    if args.ami:
        host, port = host_port(args.ami, "--ami", defaults.AMI_ADDRESS)
        ami = AmiSettings(host, port, args.ami_user, env.require_ami_secret("lotse web --ami"))
    base = load_center(args.config, out)
    if base is None:
        return EXIT_FAILED
    try:
        agents = load_agents(args.agents, None, base, passwords=False)  # the web app never needs a SIP password
        users = UsersFile(args.users, {a.id for a in agents.agents})  # read again when it changes
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=out)
        return EXIT_FAILED
    except UsersError as exc:
        print(exc, file=out)
        return EXIT_FAILED
    settings = WebSettings(
        center=base,
        agents=agents,
        users=users,
        db_url=db_argument(args.db),
        listen=listen,
        redis_url=args.redis,
        redis_prefix=args.redis_prefix,
        ami=ami,
        queue_log=args.queue_log,
        secret_file=args.secret_file,
        https_only=args.https_only,
        idle=args.idle_minutes * 60.0,
    )
    return run_web(settings, process_options(args, env))


WEB_COMMANDS = {"web": _web, "user": _user}
