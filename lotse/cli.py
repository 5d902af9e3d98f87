"""The ``lotse`` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from ivr.fastagi import LOOPBACK, ServerSettings, parse_allow
from lotse import __version__
from lotse.common import EXIT_FAILED, EXIT_OK, UsageError, host_port, load_center, report_problems
from lotse.metrics_command import METRIC_COMMANDS, add_metric_parsers
from lotse.promises_command import PROMISE_COMMANDS, add_promise_parsers
from lotse.serve import reload, serve
from lotse.web_command import WEB_COMMANDS, add_web_parsers
from pbx.contract import FASTAGI_PORT
from render.agent_codes import features as agent_features
from render.agent_codes import render as agent_dialplan
from render.agents import load_agents, manager_user
from render.agents import pjsip as agents_pjsip
from render.dialplan import RenderError, RenderOptions
from render.dialplan import render as render_dialplan
from render.dialplan import write as write_dialplan
from render.prompts import PromptError
from render.prompts import build as build_prompts
from routing.cases import case_problems, check_keys, live_problems, load_cases, parse_local, run_case
from routing.engine import Call, Decision, Live, decide
from routing.loader import load
from routing.model import Center
from routing.problems import ConfigError
from routing.schema import json_schema
from runtime.settings import Environment, SettingsError


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The ``lotse`` command; the environment (``os.environ`` unless given) is read here, once."""
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        env = Environment.read(os.environ if environ is None else environ)
    except SettingsError as exc:
        parser.error(str(exc))
    handler = {
        "validate": _validate,
        "simulate": _simulate,
        "schema": _schema,
        "serve": _serve,
        "reload": _reload,
        "asterisk": _asterisk,
        "prompts": _prompts,
        **METRIC_COMMANDS,
        **PROMISE_COMMANDS,
        **WEB_COMMANDS,
    }[args.command]
    try:
        return handler(args, env, out)
    except BrokenPipeError:  # e.g. lotse validate --json | head: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exit's flush prints nothing
        return EXIT_OK
    except (UsageError, SettingsError) as exc:
        args.command_parser.error(str(exc))  # exits with EXIT_USAGE
        raise  # pragma: no cover


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lotse", description="Call routing and IVR for public-administration service centers.")
    parser.add_argument("--version", action="version", version=f"lotse {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check a routing config and report every problem")
    validate.add_argument("path", type=Path, help="a config file or a folder of them")
    validate.add_argument("--quiet", "-q", action="store_true", help="print errors only, no warnings")
    validate.add_argument(
        "--at", type=_day, metavar="YYYY-MM-DD", help="check the config as it will be in force on this day (dated changes)"
    )
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
    serve.add_argument(
        "--allow", action="append", default=[], metavar="IP[/BITS]", help="also accept FastAGI from this address or network (repeatable)"
    )
    serve.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop (default uvloop: less CPU per call)")
    serve.add_argument("--grace", type=float, default=30.0, metavar="SECONDS", help="at a stop, how long running calls may finish (30)")
    serve.add_argument("--prompts", help="the prompts folder as Asterisk sees it (default: the config's prompts_dir)")
    serve.add_argument("--pid-file", type=Path, help="write the process id here (for lotse reload)")
    serve.add_argument("--redis", metavar="URL", help="live facts (agents, waiting callers, emergencies), e.g. redis://127.0.0.1:6379/0")
    serve.add_argument(
        "--journal", type=Path, metavar="PATH", help="append each call's decision here, for lotse metrics' --journal (AMI gaps)"
    )
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
    render.add_argument("--spool", default=RenderOptions.spool, help="where the dialplan leaves promises for lotse promises")
    render.add_argument("--prompts", default="", help="the prompts folder as Asterisk sees it (default: the config's prompts_dir)")

    prompts = commands.add_parser("prompts", help="sound files for the config's prompts")
    prompts_commands = prompts.add_subparsers(dest="prompts_command", required=True, metavar="ACTION")
    build = prompts_commands.add_parser("build", help="synthesise missing prompts from their texts (espeak-ng, sox)")
    build.add_argument("--config", type=Path, required=True)
    build.add_argument("--out", type=Path, help="prompts folder (default: the config's prompts_dir)")

    metric_parsers = add_metric_parsers(commands)
    promise_parsers = add_promise_parsers(commands)
    web_parsers = add_web_parsers(commands)

    for command in (validate, simulate, schema, serve, reload, render, build, *metric_parsers, *promise_parsers, *web_parsers):
        command.set_defaults(command_parser=command)
    return parser


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a day; write it as YYYY-MM-DD, e.g. 2027-01-01") from None


def _validate(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    result = load(args.path)
    if args.at is not None:  # the period in force that day: its own problems, and the numbers that stop after it
        result = replace(result, problems=result.problems_on(args.at))
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
    report_problems(result, out, args.quiet)
    verdict = "valid" if result.center else "invalid"
    if args.at is not None and result.center is None and not result.errors:
        verdict = f"invalid (in another period than {args.at}: run without --at)"
    print(
        f"{args.path}: {verdict}: {len(result.errors)} error(s), {len(result.warnings)} warning(s) in {len(result.files)} file(s)", file=out
    )
    if result.center:
        days = [args.at] if args.at else [start for start, _ in result.center.later]
        if not args.at and days:
            _summary("  until " + str(days[0] - timedelta(days=1)), result.center, out)
        for day in days:
            _summary(f"  on {day}" if args.at else f"  from {day} on", result.center.on(day), out)
        if not days:
            _summary(" ", result.center, out)
    return EXIT_OK if result.center else EXIT_FAILED


def _summary(when: str, c: Center, out: TextIO) -> None:
    print(
        f"{when}: {len(c.tenants)} tenants, {len(c.numbers)} numbers, {len(c.queues)} queues, "
        f"{len(c.departments)} departments, {sum(len(t.menus) for t in c.tenants.values())} menus",
        file=out,
    )


def _simulate(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    if args.cases is None and not args.to:
        raise UsageError("simulate needs --to NUMBER (and usually --from and --at), or --cases FILE")
    center = load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    if args.cases is not None:
        return _run_cases(center, args.cases, args.verbose, out)
    try:
        at = parse_local(args.at, center.tz) if args.at else datetime.now(center.tz)
    except ValueError as exc:
        raise UsageError(f"argument --at: {exc}") from None
    try:
        check_keys(args.digits)
    except ValueError as exc:
        raise UsageError(f"argument --digits: {exc}") from None
    live = Live(
        agents=_counts(args.agents, "--agents") if args.agents else None,
        waiting=_counts(args.waiting, "--waiting"),
        emergencies=frozenset(_pair(v) for v in args.emergency),
    )
    for field, message in live_problems(center, live):
        raise UsageError(f"argument {LIVE_OPTIONS[field]}: {message}")
    decision = decide(center, Call(args.to, args.caller), at, live, args.digits)
    print(f"Call to {args.to} from {args.caller or 'a hidden number'} at {at:%a %Y-%m-%d %H:%M} ({center.tz.key})", file=out)
    _print_decision(decision, out)
    return EXIT_OK


LIVE_OPTIONS = {"agents": "--agents", "waiting": "--waiting", "emergencies": "--emergency"}


def _counts(values: list[str], option: str) -> dict[str, int]:
    counts = {}
    for value in values:
        name, sep, number = value.partition("=")
        if not sep or not number.strip().isdigit():
            raise UsageError(f"argument {option}: '{value}' must be QUEUE=N, e.g. buergerservice=3")
        counts[name.strip()] = int(number)
    return counts


def _pair(value: str) -> tuple[str, str]:
    tenant, sep, emergency = value.partition("/")
    if not sep or not tenant or not emergency:
        raise UsageError(f"argument --emergency: '{value}' must be TENANT/ID, e.g. minden/bombe")
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
    for number, (case, location) in enumerate(cases):
        broken = case_problems(center, case)
        if broken:
            failed += 1
            for message in broken:
                print(f"{location}: error: cases[{number}]: {message}" if location else f"error: cases[{number}]: {message}", file=out)
            print(f"FAIL {case.name} ({location}): cannot run", file=out)
            continue
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
    return serve(settings, args.pid_file, pretend, args.loop)


def _reload(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    return reload(args.config, args.pid_file, out)


def _asterisk(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    center = load_center(args.config, out)
    if center is None:
        return EXIT_FAILED
    host, port = host_port(args.fastagi, "--fastagi", f"127.0.0.1:{FASTAGI_PORT}")
    if "{number}" not in args.dial:
        raise UsageError(f"argument --dial: '{args.dial}' has no {{number}}, e.g. PJSIP/{{number}}@amt")
    options = RenderOptions(agi=args.agi, fastagi_host=host, fastagi_port=port, dial=args.dial, spool=args.spool, prompts=args.prompts)
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
        files["extensions_agents_lotse.conf"] = header + agent_dialplan(center, agents, args.prompts or center.prompts_dir, args.dial)
        files["features_lotse.conf"] = header + agent_features(agents, args.prompts or center.prompts_dir)
        secret = env.ami_secret or agents.ami_secret
        if secret:
            files["manager_lotse.conf"] = header + manager_user(secret)
        else:
            print("no AMI secret (LOTSE_AMI_SECRET or ami_secret in the secrets file): manager_lotse.conf not written", file=out)
    for path in write_dialplan(files, args.out):
        print(f"wrote {path}", file=out)
    return EXIT_OK


def _prompts(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    center = load_center(args.config, out)
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


def _schema(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        out.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=out)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
