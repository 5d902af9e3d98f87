"""The ``lotse`` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

import redis

from ivr.agents import load_agents, manager_user, queue_members
from ivr.agents import pjsip as agents_pjsip
from ivr.contract import FASTAGI_PORT
from ivr.dialplan import RenderError, RenderOptions
from ivr.dialplan import render as render_dialplan
from ivr.dialplan import write as write_dialplan
from ivr.fastagi import ServerSettings
from ivr.prompts import PromptError
from ivr.prompts import build as build_prompts
from lotse import __version__
from lotse.metrics_command import run_metrics
from lotse.serve import reload, serve
from metrics.listener import AmiSettings
from metrics.live import LiveState
from metrics.report import DIMENSIONS, INTERVALS, group_sql
from metrics.report import render as render_report
from metrics.store import DEFAULT_URL, Store
from metrics.tracker import Privacy
from routing.cases import check_keys, load_cases, parse_local, run_case
from routing.engine import Call, Decision, Live, decide
from routing.loader import LoadResult, load
from routing.model import Center
from routing.problems import ConfigError, did_you_mean
from routing.schema import json_schema

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    handler = {
        "validate": _validate,
        "simulate": _simulate,
        "schema": _schema,
        "serve": _serve,
        "reload": _reload,
        "asterisk": _asterisk,
        "prompts": _prompts,
        "metrics": _metrics,
        "report": _report_command,
        "purge": _purge,
        "emergency": _emergency,
    }[args.command]
    try:
        return handler(args, out)
    except _UsageError as exc:
        args.command_parser.error(str(exc))  # exits with EXIT_USAGE
        raise  # pragma: no cover


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Call routing and IVR for public-administration service centers.")
    parser.add_argument("--version", action="version", version=f"lotse {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check a routing config and report every problem")
    validate.add_argument("path", type=Path, help="a config file or a folder of them")
    validate.add_argument("--quiet", "-q", action="store_true", help="print errors only, no warnings")
    validate.add_argument("--json", action="store_true", help="print problems as JSON")

    simulate = commands.add_parser("simulate", help="show the path a call takes, or run routing cases")
    simulate.add_argument("--config", type=Path, required=True, help="a config file or folder")
    simulate.add_argument("--to", help="the dialled number, e.g. '0571 89-0' or 115")
    simulate.add_argument("--from", dest="caller", default="", help="the caller's number; empty or 'anonymous' for hidden")
    simulate.add_argument("--at", help="local time 'YYYY-MM-DD HH:MM' in the center's time zone (default: now)")
    simulate.add_argument("--digits", default="", help="keys pressed, one per menu, T for a timeout, e.g. 21")
    simulate.add_argument("--agents", action="append", default=[], metavar="QUEUE=N", help="agents logged in to a queue (repeatable)")
    simulate.add_argument("--waiting", action="append", default=[], metavar="QUEUE=N", help="callers waiting in a queue (repeatable)")
    simulate.add_argument("--emergency", action="append", default=[], metavar="TENANT/ID", help="an emergency switched on (repeatable)")
    simulate.add_argument("--cases", type=Path, help="run the routing cases in FILE instead of one call")
    simulate.add_argument("--verbose", "-v", action="store_true", help="with --cases: show the trace of passing cases too")

    schema = commands.add_parser("schema", help="write the JSON Schema of the routing YAML")
    schema.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    serve = commands.add_parser("serve", help="run the FastAGI server that routes calls")
    serve.add_argument("--config", type=Path, required=True)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    serve.add_argument("--port", type=int, default=FASTAGI_PORT)
    serve.add_argument("--allow", action="append", default=[], metavar="IP", help="also accept FastAGI from this address (repeatable)")
    serve.add_argument("--prompts", help="the prompts folder as Asterisk sees it (default: the config's prompts_dir)")
    serve.add_argument("--pid-file", type=Path, help="write the process id here (for lotse reload)")
    serve.add_argument("--redis", metavar="URL", help="live facts (agents, waiting callers, emergencies), e.g. redis://127.0.0.1:6379/0")
    serve.add_argument("--pretend-time", metavar="'YYYY-MM-DD HH:MM'", help="route as if it were this local time (labs and tests only)")

    reload = commands.add_parser("reload", help="validate a config and make the running server use it for new calls")
    reload.add_argument("--config", type=Path, required=True)
    reload.add_argument("--pid-file", type=Path, required=True)

    asterisk = commands.add_parser("asterisk", help="Asterisk config for lotse")
    asterisk_commands = asterisk.add_subparsers(dest="asterisk_command", required=True, metavar="ACTION")
    render = asterisk_commands.add_parser("render", help="write extensions, queues and voicemail config to include into Asterisk")
    render.add_argument("--config", type=Path, required=True)
    render.add_argument("--out", type=Path, required=True)
    render.add_argument("--agi", choices=("fastagi", "classic"), default="fastagi")
    render.add_argument("--fastagi", default=f"127.0.0.1:{FASTAGI_PORT}", metavar="HOST:PORT")
    render.add_argument("--dial", default="PJSIP/{number}@amt", help="dial string for departments; {number} is E.164")
    render.add_argument("--agents", type=Path, help="agents file: PJSIP endpoints and queue members")
    render.add_argument("--secrets", type=Path, help="secrets file: agents' passwords and the AMI secret")

    prompts = commands.add_parser("prompts", help="sound files for the config's prompts")
    prompts_commands = prompts.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")
    build = prompts_commands.add_parser("build", help="synthesise missing prompts from their texts (espeak-ng, sox)")
    build.add_argument("--config", type=Path, required=True)
    build.add_argument("--out", type=Path, help="prompts folder (default: the config's prompts_dir)")

    metrics = commands.add_parser("metrics", help="follow Asterisk's AMI events, write one record per call, export Prometheus metrics")
    metrics.add_argument("--config", type=Path, required=True, help="for the time zone, the queues and the targets")
    metrics.add_argument("--db", default=DEFAULT_URL, help=f"SQLAlchemy URL of the call records (default {DEFAULT_URL})")
    metrics.add_argument("--listen", default="127.0.0.1:9570", metavar="HOST:PORT", help="Prometheus endpoint (default 127.0.0.1:9570)")
    metrics.add_argument("--ami", default="127.0.0.1:5038", metavar="HOST:PORT")
    metrics.add_argument("--ami-user", default="lotse")
    metrics.add_argument("--redis", metavar="URL", help="keep the live state (agents, waiting callers) in Redis for lotse serve")
    metrics.add_argument(
        "--caller-numbers",
        choices=[p.value for p in Privacy],
        default=Privacy.TRUNCATED.value,
        help="how callers' numbers are stored (default: truncated)",
    )

    report = commands.add_parser("report", help="KPIs per tenant, entry, topic, queue and interval")
    report.add_argument("--config", type=Path, required=True, help="for the time zone and the targets")
    report.add_argument("--db", default=DEFAULT_URL)
    report.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="exclusive")
    report.add_argument("--by", default="tenant", help=f"comma-separated: {', '.join(DIMENSIONS)}; empty for the whole center")
    report.add_argument("--interval", choices=INTERVALS, default="all")
    report.add_argument("--format", choices=("table", "csv", "json"), default="table")

    emergency = commands.add_parser("emergency", help="switch a tenant's emergency line on or off, or list those on")
    emergency.add_argument("action", choices=("on", "off", "list"))
    emergency.add_argument("which", nargs="?", metavar="TENANT/ID", help="e.g. minden/bombe")
    emergency.add_argument("--config", type=Path, required=True)
    emergency.add_argument("--redis", default="redis://127.0.0.1:6379/0", metavar="URL")

    purge = commands.add_parser("purge", help="delete call records older than the retention period")
    purge.add_argument("--db", default=DEFAULT_URL)
    purge.add_argument("--days", type=int, required=True, help="keep this many days")

    for command in (validate, simulate, schema, serve, reload, render, build, metrics, report, purge, emergency):
        command.set_defaults(command_parser=command)
    return parser


def _report(result: LoadResult, out: TextIO, quiet: bool = False) -> None:
    for problem in result.problems:
        if quiet and problem.severity.value == "warning":
            continue
        print(problem, file=out)


def _validate(args: argparse.Namespace, out: TextIO) -> int:
    result = load(args.path)
    if args.json:
        problems = [
            {
                "severity": p.severity.value,
                "file": p.location.file if p.location else None,
                "line": p.location.line if p.location else None,
                "column": p.location.column if p.location else None,
                "path": ".".join(map(str, p.path)),
                "message": p.message,
                "hint": p.hint,
            }
            for p in result.problems
        ]
        json.dump({"ok": result.center is not None, "files": list(result.files), "problems": problems}, out, indent=2, ensure_ascii=False)
        print(file=out)
        return EXIT_OK if result.center else EXIT_FAILED
    _report(result, out, args.quiet)
    verdict = "valid" if result.center else "invalid"
    print(
        f"{args.path}: {verdict}: {len(result.errors)} error(s), {len(result.warnings)} warning(s) in {len(result.files)} file(s)", file=out
    )
    if result.center:
        c = result.center
        print(
            f"  {len(c.tenants)} tenants, {len(c.numbers)} numbers, {len(c.queues)} queues, "
            f"{len(c.departments)} departments, {sum(len(t.menus) for t in c.tenants.values())} menus",
            file=out,
        )
    return EXIT_OK if result.center else EXIT_FAILED


def _load_center(path: Path, out: TextIO) -> Center | None:
    result = load(path)
    if result.center is None:
        _report(result, out, quiet=True)
        print(f"{path}: invalid config; fix the errors above (lotse validate {path})", file=out)
    return result.center


def _simulate(args: argparse.Namespace, out: TextIO) -> int:
    if args.cases is None and not args.to:
        raise _UsageError("simulate needs --to NUMBER (and usually --from and --at), or --cases FILE")
    center = _load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    if args.cases is not None:
        return _run_cases(center, args.cases, args.verbose, out)
    try:
        at = parse_local(args.at, center.tz) if args.at else datetime.now(center.tz)
    except ValueError as exc:
        raise _UsageError(f"argument --at: {exc}") from None
    try:
        check_keys(args.digits)
    except ValueError as exc:
        raise _UsageError(f"argument --digits: {exc}") from None
    live = Live(
        agents=_counts(args.agents, "--agents") if args.agents else None,
        waiting=_counts(args.waiting, "--waiting"),
        emergencies=frozenset(_pair(v) for v in args.emergency),
    )
    decision = decide(center, Call(args.to, args.caller), at, live, args.digits)
    print(f"Call to {args.to} from {args.caller or 'a hidden number'} at {at:%a %Y-%m-%d %H:%M} ({center.tz.key})", file=out)
    _print_decision(decision, out)
    return EXIT_OK


def _counts(values: list[str], option: str) -> dict[str, int]:
    counts = {}
    for value in values:
        name, sep, number = value.partition("=")
        if not sep or not number.strip().isdigit():
            raise _UsageError(f"argument {option}: '{value}' must be QUEUE=N, e.g. buergerservice=3")
        counts[name.strip()] = int(number)
    return counts


def _pair(value: str) -> tuple[str, str]:
    tenant, sep, emergency = value.partition("/")
    if not sep or not tenant or not emergency:
        raise _UsageError(f"argument --emergency: '{value}' must be TENANT/ID, e.g. minden/bombe")
    return tenant, emergency


def _print_decision(decision: Decision, out: TextIO, indent: str = "  ") -> None:
    for number, line in enumerate(decision.ctx.trace, 1):
        print(f"{indent}{number:2d}. {line}", file=out)
    d = decision
    parts = [
        f"outcome={d.outcome.value}",
        f"tenant={d.tenant or '-'}",
        f"entry={d.ctx.entry.value if d.ctx.entry else '-'}",
        f"topic={d.ctx.topic or '-'}",
    ]
    for name in ("queue", "department", "number", "mailbox"):
        value = getattr(d, name)
        if value:
            parts.append(f"{name}={value}")
    parts.append(f"reason={d.reason}")
    print(f"{indent}Result: {' '.join(parts)}", file=out)
    if d.queue:
        print(f"{indent}Agent hears and sees: {d.agent_label}", file=out)


def _run_cases(center: Center, file: Path, verbose: bool, out: TextIO) -> int:
    cases, problems = load_cases(file)
    for problem in problems:
        print(problem, file=out)
    if problems:
        print(f"{file}: cannot run the cases; fix the errors above", file=out)
        return EXIT_FAILED
    passed = failed = 0
    for case, location in cases:
        result = run_case(center, case, location)
        if result.passed:
            passed += 1
            print(f"PASS {case.name}", file=out)
            if verbose:
                _print_decision(result.decision, out, "     ")
        else:
            failed += 1
            print(f"FAIL {case.name} ({location})", file=out)
            for mismatch in result.mismatches:
                print(f"     {mismatch}", file=out)
            _print_decision(result.decision, out, "     ")
    print(f"{passed} passed, {failed} failed", file=out)
    return EXIT_OK if failed == 0 else EXIT_FAILED


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    pretend = None
    if args.pretend_time:
        result = load(args.config)
        tz = result.center.tz if result.center else ZoneInfo("Europe/Berlin")
        try:
            pretend = parse_local(args.pretend_time, tz)
        except ValueError as exc:
            raise _UsageError(f"argument --pretend-time: {exc}") from None
    settings = ServerSettings(
        config=args.config,
        host=args.host,
        port=args.port,
        allow=frozenset({"127.0.0.1", "::1", *args.allow}),
        prompts=args.prompts,
        redis_url=args.redis,
    )
    return serve(settings, args.pid_file, pretend)


def _reload(args: argparse.Namespace, out: TextIO) -> int:
    return reload(args.config, args.pid_file, out)


def _asterisk(args: argparse.Namespace, out: TextIO) -> int:
    center = _load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    host, sep, port = args.fastagi.rpartition(":")
    if not sep or not port.isdigit():
        raise _UsageError(f"argument --fastagi: '{args.fastagi}' must be HOST:PORT, e.g. 127.0.0.1:4573")
    if "{number}" not in args.dial:
        raise _UsageError(f"argument --dial: '{args.dial}' has no {{number}}, e.g. PJSIP/{{number}}@amt")
    options = RenderOptions(agi=args.agi, fastagi_host=host, fastagi_port=int(port), dial=args.dial)
    try:
        files = render_dialplan(center, options, str(args.config))
    except RenderError as exc:
        print(f"{args.config}: {exc}", file=out)
        return EXIT_FAILED
    if args.agents is not None:
        try:
            agents = load_agents(args.agents, args.secrets, center)
        except ConfigError as exc:
            for problem in exc.problems:
                print(problem, file=out)
            return EXIT_FAILED
        for problem in agents.warnings:
            print(problem, file=out)
        header = f"; Generated by lotse from {args.agents}. Do not edit.\n"
        files["pjsip_lotse.conf"] = header + agents_pjsip(agents)
        files["queues_lotse.conf"] += "\n; Members from " + str(args.agents) + "\n" + queue_members(center, agents)
        secret = os.environ.get("LOTSE_AMI_SECRET") or agents.ami_secret
        if secret:
            files["manager_lotse.conf"] = header + manager_user(secret)
        else:
            print("no AMI secret (LOTSE_AMI_SECRET or ami_secret in the secrets file): manager_lotse.conf not written", file=out)
    for path in write_dialplan(files, args.out):
        print(f"wrote {path}", file=out)
    return EXIT_OK


def _prompts(args: argparse.Namespace, out: TextIO) -> int:
    center = _load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    folder = args.out or Path(center.prompts_dir)
    try:
        report = build_prompts(center, folder)
    except PromptError as exc:
        print(f"prompts: {exc}", file=out)
        return EXIT_FAILED
    for file in report.without_text:
        print(f"missing, no text to synthesise: {folder / file}", file=out)
    print(
        f"{folder}: {len(report.made)} synthesised, {len(report.kept)} already there, {len(report.without_text)} missing without text",
        file=out,
    )
    return EXIT_OK if not report.without_text else EXIT_FAILED


def _metrics(args: argparse.Namespace, out: TextIO) -> int:
    host, sep, port = args.ami.rpartition(":")
    if not sep or not port.isdigit():
        raise _UsageError(f"argument --ami: '{args.ami}' must be HOST:PORT, e.g. 127.0.0.1:5038")
    listen_host, sep, listen_port = args.listen.rpartition(":")
    if not sep or not listen_port.isdigit():
        raise _UsageError(f"argument --listen: '{args.listen}' must be HOST:PORT, e.g. 127.0.0.1:9570")
    secret = os.environ.get("LOTSE_AMI_SECRET", "")
    if not secret:
        raise _UsageError("the AMI secret comes from the environment: set LOTSE_AMI_SECRET")
    center = _load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    ami = AmiSettings(host, int(port), args.ami_user, secret)
    return run_metrics(ami, args.db, Privacy(args.caller_numbers), center, (listen_host, int(listen_port)), args.redis)


def _report_command(args: argparse.Namespace, out: TextIO) -> int:
    center = _load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    by = [d.strip() for d in args.by.split(",") if d.strip()]
    for dimension in by:
        if dimension not in DIMENSIONS:
            raise _UsageError(f"argument --by: '{dimension}' is not one of {', '.join(DIMENSIONS)}")
    try:
        start, end = (parse_local(f"{day} 00:00", center.tz).timestamp() for day in (args.start, args.end))
    except ValueError as exc:
        raise _UsageError(f"argument --from/--to: {exc}") from None
    store = Store.open(args.db, center.tz)
    try:
        rows = group_sql(store, center, start, end, by, args.interval)
    finally:
        store.close()
    out.write(render_report(rows, by, args.format))
    return EXIT_OK


def _emergency(args: argparse.Namespace, out: TextIO) -> int:
    center = _load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    state = LiveState(redis.Redis.from_url(args.redis, socket_timeout=2))
    try:
        if args.action == "list":
            switched = sorted(state.emergencies())
            print("\n".join(switched) if switched else "no emergency line is on", file=out)
            return EXIT_OK
        if not args.which:
            raise _UsageError(f"emergency {args.action} needs TENANT/ID, e.g. minden/bombe")
        tenant_id, _, emergency_id = args.which.partition("/")
        tenant = center.tenants.get(tenant_id)
        if tenant is None:
            raise _UsageError(f"unknown tenant '{tenant_id}' ({did_you_mean(tenant_id, center.tenants)})")
        if emergency_id not in tenant.emergencies:
            raise _UsageError(f"tenant '{tenant_id}' has no emergency '{emergency_id}' ({did_you_mean(emergency_id, tenant.emergencies)})")
        state.switch(tenant_id, emergency_id, args.action == "on")
    except redis.RedisError as exc:
        print(f"cannot reach Redis at {args.redis}: {exc}", file=out)
        return EXIT_FAILED
    name = tenant.emergencies[emergency_id].name
    print(f"{name} ({args.which}) is {'ON: new calls to ' + tenant.name + ' go to it' if args.action == 'on' else 'off'}", file=out)
    return EXIT_OK


def _purge(args: argparse.Namespace, out: TextIO) -> int:
    if args.days < 1:
        raise _UsageError("argument --days: keep at least 1 day")
    store = Store.open(args.db)
    try:
        deleted = store.purge(time.time() - args.days * 86400)
    finally:
        store.close()
    print(f"deleted {deleted} call record(s) older than {args.days} days", file=out)
    return EXIT_OK


def _schema(args: argparse.Namespace, out: TextIO) -> int:
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        out.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=out)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
