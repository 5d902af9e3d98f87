"""The metrics commands: ``lotse metrics``, ``report``, ``purge`` and ``emergency``."""

from __future__ import annotations

import argparse
import socket
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import redis

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
from metrics import council, dispositions
from metrics.html import page
from metrics.listener import ListenerSettings
from metrics.report import DIMENSIONS, INTERVALS, group_sql
from metrics.report import render as render_report
from metrics.store import Store
from metrics.tracker import Privacy
from pbx import contract as c
from pbx.ami import AmiSettings
from promises.figures import promise_figures
from promises.figures import render_table as render_promises
from promises.store import Promises
from render.agents import load_agents
from routing.cases import parse_local
from routing.problems import did_you_mean
from runtime import settings as defaults
from runtime.metrics import run_metrics
from runtime.settings import Environment
from stores.db import shown, sqlite_file
from stores.live import LiveState
from web.reports import agents_report


def add_metric_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    """Add the metrics commands to the lotse parser; returns them."""
    return (_add_metrics(commands), *_add_reports(commands))


def _add_metrics(commands: Any) -> argparse.ArgumentParser:
    metrics: argparse.ArgumentParser = commands.add_parser(
        "metrics", help="follow Asterisk's AMI events, write one record per call, export Prometheus metrics"
    )
    setting(metrics, "--config", "config", type=Path, required=True, help="for the time zone, the queues and the targets")
    setting(metrics, "--db", "database.url", help=DB_HELP)
    setting(metrics, "--listen", "metrics.listen", metavar="HOST:PORT", help="Prometheus endpoint (default %(default)s)")
    setting(metrics, "--ami", "ami.address", metavar="HOST:PORT")
    metrics.add_argument("--ami-user", default=c.AMI_USER_METRICS)
    process_flags(metrics)
    setting(metrics, "--redis", "redis.url", metavar="URL", help="keep the live state (agents, waiting callers) in Redis for lotse serve")
    setting(metrics, "--node", "node", help="this node's name in the live state (two nodes; default: the host name)")
    setting(
        metrics,
        "--queue-log",
        "queue_log",
        type=Path,
        metavar="PATH",
        help="Asterisk's queue_log, to complete the records after an AMI gap",
    )
    setting(
        metrics,
        "--journal",
        "journal",
        type=Path,
        metavar="PATH",
        help="lotse serve's --journal: the calls of an AMI gap that never queued",
    )
    setting(
        metrics, "--retention-days", "metrics.retention_days", type=int, metavar="N", help="delete records older than N days, every hour"
    )
    setting(
        metrics,
        "--spool",
        "metrics.spool",
        type=Path,
        metavar="PATH",
        help="records on their way to the database, on disk (default lotse-records.spool; refused ones go to PATH.rejected)",
    )
    setting(
        metrics,
        "--caller-numbers",
        "metrics.caller_numbers",
        choices=[p.value for p in Privacy],
        help="how callers' numbers are stored (default: truncated)",
    )

    return metrics


def _add_reports(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
    report = commands.add_parser("report", help="KPIs per tenant, entry, topic, queue and interval")
    setting(report, "--config", "config", type=Path, required=True, help="for the time zone and the targets")
    setting(report, "--db", "database.url", help=DB_HELP)
    report.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="the day after the last day (exclusive)")
    report.add_argument("--by", default="tenant", help=f"comma-separated: {', '.join(DIMENSIONS)}; empty for the whole center")
    report.add_argument("--interval", choices=INTERVALS, default="all")
    report.add_argument("--format", choices=("table", "csv", "json", "html"), default="table")
    setting(
        report,
        "--agents",
        "agents",
        type=Path,
        metavar="FILE",
        help="agents.yaml: with --queue-log, the agents' figures in the html report",
    )
    setting(report, "--queue-log", "queue_log", type=Path, metavar="PATH", help="Asterisk's queue_log (agents' figures)")

    emergency = commands.add_parser("emergency", help="switch a tenant's emergency line on or off, or list those on")
    emergency.add_argument("action", choices=("on", "off", "list"))
    emergency.add_argument("which", nargs="?", metavar="TENANT/ID", help="e.g. minden/bombe")
    setting(emergency, "--config", "config", type=Path, required=True)
    setting(emergency, "--redis", "redis.url", default=defaults.REDIS_URL, metavar="URL")

    purge = commands.add_parser("purge", help="delete call records older than the retention period")
    setting(purge, "--db", "database.url", help=DB_HELP)
    purge.add_argument("--days", type=int, required=True, help="keep this many days")

    return report, purge, emergency


def _metrics(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    host, port = host_port(args.ami, "--ami", defaults.AMI_ADDRESS)
    listen = host_port(args.listen, "--listen", defaults.METRICS_LISTEN)
    secret = env.require_ami_secret("lotse metrics")
    center = load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    ami = AmiSettings(host, port, args.ami_user, secret)
    if args.retention_days is not None and args.retention_days < 1:
        raise UsageError("argument --retention-days: keep at least 1 day")
    db_url = db_argument(args.db)
    folder = sqlite_file(db_url)
    if folder is not None and not folder.parent.is_dir():
        raise UsageError(f"argument --db: the folder {folder.parent} does not exist")
    settings = ListenerSettings(
        db_url=db_url,
        spool=args.spool,
        privacy=Privacy(args.caller_numbers),
        queues=tuple(center.queues),
        queue_log=args.queue_log,
        journal=args.journal,
        retention_days=args.retention_days,
    )
    node = args.node or socket.gethostname()
    return run_metrics(ami, settings, center, listen, args.redis, process_options(args, env), node)


def _report_command(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    center = load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    by = [d.strip() for d in args.by.split(",") if d.strip()]
    for dimension in by:
        if dimension not in DIMENSIONS:
            raise UsageError(f"argument --by: '{dimension}' is not one of {', '.join(DIMENSIONS)}")
    try:
        start, end = (parse_local(f"{day} 00:00", center.tz).timestamp() for day in (args.start, args.end))
    except ValueError as exc:
        raise UsageError(f"argument --from/--to: {exc}") from None
    if end <= start:
        raise UsageError(f"argument --to: {args.end} is not after --from {args.start} (--to is the day after the last day)")
    url = db_argument(args.db)
    store = Store.open_existing(url, center.tz)  # a StoreError goes up to lotse.cli: printed, exit 1
    try:
        rows = group_sql(store, center, start, end, by, args.interval)
        if args.format == "html":
            first, last = date.fromisoformat(args.start), date.fromisoformat(args.end) - timedelta(days=1)
            body = council.render(center, store.between(start, end), first, last, dispositions.of_calls(store.engine, start, end))
            if args.agents and args.queue_log:
                body += agents_report(center, load_agents(args.agents, None, center, passwords=False), args.queue_log, start, end)
        promises = Promises(store.engine)
        kept = promise_figures(promises.all_callbacks(start, end), promises.tickets_between(start, end), time.time(), by)
    finally:
        store.close()
    if not rows and args.format == "table":
        final = (datetime.strptime(args.end, "%Y-%m-%d") - timedelta(days=1)).strftime("%Y-%m-%d")
        print(f"no calls between {args.start} and {final} (both included) in {shown(url)}", file=out)
        return EXIT_OK
    if args.format == "html":
        out.write(page(f"Bericht {center.name}: {first:%d.%m.%Y} bis {last:%d.%m.%Y}", body))
    else:
        out.write(render_report(rows, by, args.format))
    if kept and args.format == "table":
        print("\n" + render_promises(kept, by), file=out)
    return EXIT_OK


def _emergency(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    center = load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    state = LiveState(redis.Redis.from_url(args.redis, socket_timeout=2))
    try:
        if args.action == "list":
            switched = sorted(state.emergencies())
            print("\n".join(switched) if switched else "no emergency line is on", file=out)
            return EXIT_OK
        if not args.which:
            raise UsageError(f"emergency {args.action} needs TENANT/ID, e.g. minden/bombe")
        tenant_id, _, emergency_id = args.which.partition("/")
        tenant = center.tenants.get(tenant_id)
        if tenant is None:
            raise UsageError(f"unknown tenant '{tenant_id}' ({did_you_mean(tenant_id, center.tenants)})")
        if emergency_id not in tenant.emergencies:
            raise UsageError(f"tenant '{tenant_id}' has no emergency '{emergency_id}' ({did_you_mean(emergency_id, tenant.emergencies)})")
        state.switch(tenant_id, emergency_id, args.action == "on")
    except redis.RedisError as exc:
        print(f"cannot reach Redis at {args.redis}: {exc}", file=out)
        return EXIT_FAILED
    name = tenant.emergencies[emergency_id].name
    print(f"{name} ({args.which}) is {'ON: new calls to ' + tenant.name + ' go to it' if args.action == 'on' else 'off'}", file=out)
    return EXIT_OK


def _purge(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    if args.days < 1:
        raise UsageError("argument --days: keep at least 1 day")
    store = Store.open_existing(db_argument(args.db))
    try:
        deleted = store.purge(time.time() - args.days * 86400)
    finally:
        store.close()
    print(f"deleted {deleted} call record(s) older than {args.days} days", file=out)
    return EXIT_OK


METRIC_COMMANDS = {"metrics": _metrics, "report": _report_command, "purge": _purge, "emergency": _emergency}
