"""``lotse serve`` (the FastAGI server that routes calls) and ``lotse reload`` (a new config for it)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from ivr.fastagi import LOOPBACK, ServerSettings, parse_allow
from lotse.common import EXIT_FAILED, EXIT_OK, UsageError, host_port, process_flags, process_options, setting
from pbx.contract import FASTAGI_PORT
from routing.cases import parse_local
from routing.loader import load
from runtime.serve import run_serve, signal_reload
from runtime.settings import Environment


def add_serve_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    serve = commands.add_parser("serve", help="run the FastAGI server that routes calls")
    setting(serve, "--config", "config", type=Path, required=True)
    setting(serve, "--host", "serve.host", help="address to listen on (default: loopback)")
    setting(serve, "--port", "serve.port", type=int, help=f"default {FASTAGI_PORT}")
    setting(
        serve,
        "--allow",
        "serve.allow",
        action="append",
        metavar="IP[/BITS]",
        help="also accept FastAGI from this address or network (repeatable)",
    )
    process_flags(serve)
    setting(serve, "--listen", "serve.listen", metavar="HOST:PORT", help="serve /health and /metrics here (default: not served)")
    setting(serve, "--grace", "serve.grace", type=float, metavar="SECONDS", help="at a stop, how long running calls may finish (30)")
    setting(serve, "--prompts", "serve.prompts", help="the prompts folder as Asterisk sees it (default: the config's prompts_dir)")
    setting(serve, "--pid-file", "serve.pid_file", type=Path, help="write the process id here (for lotse reload)")
    setting(
        serve,
        "--redis",
        "redis.url",
        metavar="URL",
        help="live facts (agents, waiting callers, emergencies), e.g. redis://127.0.0.1:6379/0",
    )
    setting(
        serve,
        "--journal",
        "journal",
        type=Path,
        metavar="PATH",
        help="append each call's decision here, for lotse metrics' --journal (AMI gaps)",
    )
    serve.add_argument("--pretend-time", metavar="'YYYY-MM-DD HH:MM'", help="route as if it were this local time (labs and tests only)")

    reload = commands.add_parser("reload", help="validate a config and make the running server use it for new calls")
    setting(reload, "--config", "config", type=Path, required=True)
    setting(reload, "--pid-file", "serve.pid_file", type=Path, required=True)
    return serve, reload


def _serve(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    pretend = None
    if args.pretend_time:
        result = load(args.config)
        tz = result.center.tz if result.center else ZoneInfo("Europe/Berlin")
        try:
            pretend = parse_local(args.pretend_time, tz)
        except ValueError as exc:
            raise UsageError(f"argument --pretend-time: {exc}") from None
    try:
        allow = LOOPBACK + parse_allow(args.allow)
    except ValueError as exc:
        raise UsageError(f"argument --allow: {exc}") from None
    if args.grace < 0:
        raise UsageError(f"argument --grace: {args.grace:g} is negative; give the seconds running calls may take, e.g. 30")
    settings = ServerSettings(
        config=args.config,
        host=args.host,
        port=args.port,
        allow=allow,
        grace_seconds=args.grace,
        prompts=args.prompts,
        redis_url=args.redis,
        journal=args.journal,
    )
    listen = host_port(args.listen, "--listen", "127.0.0.1:9573") if args.listen else None
    return run_serve(settings, args.pid_file, pretend, listen, process_options(args, env))


def _reload(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    """Validate first; only a valid config is signalled to the running server."""
    result = load(args.config)
    for problem in result.errors:
        print(problem, file=out)
    if result.center is None:
        print(f"{args.config}: not reloaded: {len(result.errors)} error(s); the server keeps its current config", file=out)
        return EXIT_FAILED
    try:
        pid = signal_reload(args.pid_file)
    except (OSError, ValueError) as exc:
        print(f"cannot signal the server via {args.pid_file}: {exc}", file=out)
        return EXIT_FAILED
    print(f"{args.config}: valid; server {pid} reloads it for new calls", file=out)
    return EXIT_OK


SERVE_COMMANDS = {"serve": _serve, "reload": _reload}
