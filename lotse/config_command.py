"""The config commands: ``lotse validate``, ``lotse simulate`` (one call, or the routing cases) and ``lotse schema``."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from lotse.common import EXIT_FAILED, EXIT_OK, UsageError, load_center, report_problems
from outcomes import registry
from outcomes.commands import GetDigits
from pbx import contract as c
from routing.cases import case_problems, check_keys, live_problems, load_cases, parse_local, run_case
from routing.engine import Call, Decision, Live, decide
from routing.loader import load
from routing.model import Center, Outcome
from routing.schema import json_schema
from runtime.settings import Environment


def add_config_parsers(commands: Any) -> tuple[argparse.ArgumentParser, ...]:
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
    simulate.add_argument(
        "--fields", action="append", default=[], metavar="DIGITS", help="keyed in for a message intake's fields, one per field (repeatable)"
    )
    simulate.add_argument("--agents", action="append", default=[], metavar="QUEUE=N", help="agents logged in to a queue (repeatable)")
    simulate.add_argument("--waiting", action="append", default=[], metavar="QUEUE=N", help="callers waiting in a queue (repeatable)")
    simulate.add_argument("--emergency", action="append", default=[], metavar="TENANT/ID", help="an emergency switched on (repeatable)")
    simulate.add_argument("--cases", type=Path, help="run the routing cases in FILE instead of one call")
    simulate.add_argument("--verbose", "-v", action="store_true", help="with --cases: show the trace of passing cases too")

    schema = commands.add_parser("schema", help="write the JSON Schema of the routing YAML")
    schema.add_argument("--out", type=Path, default=None, help="file to write (default: standard output)")
    return validate, simulate, schema


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
    if result.center:  # the size of the config (of each period), above the verdict
        days = [args.at] if args.at else [start for start, _ in result.center.later]
        if not args.at and days:
            _summary("  until " + str(days[0] - timedelta(days=1)) + ": ", result.center, out)
        for day in days:
            _summary(f"  on {day}: " if args.at else f"  from {day} on: ", result.center.on(day), out)
        if not days:
            _summary("  ", result.center, out)
    summary = f"{len(result.errors)} error(s), {len(result.warnings)} warning(s) in {len(result.files)} file(s)"
    print(f"{args.path}: {verdict}: {summary}", file=out)  # always the last line: scripts and people look for it there
    return EXIT_OK if result.center else EXIT_FAILED


def _summary(when: str, c: Center, out: TextIO) -> None:
    print(
        f"{when}{len(c.tenants)} tenants, {len(c.numbers)} numbers, {len(c.queues)} queues, "
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
    for value in args.fields:
        if not value.isdigit() or not value.isascii():
            raise UsageError(f"argument --fields: '{value}' is not what a caller keys in; give digits, e.g. --fields 123456")
    live = Live(
        agents=_counts(args.agents, "--agents") if args.agents else None,
        waiting=_counts(args.waiting, "--waiting"),
        emergencies=frozenset(_pair(v) for v in args.emergency),
    )
    for field, message in live_problems(center, live):
        raise UsageError(f"argument {LIVE_OPTIONS[field]}: {message}")
    decision = decide(center, Call(args.to, args.caller), at, live, args.digits)
    print(f"Call to {args.to} from {args.caller or 'a hidden number'} at {at:%a %Y-%m-%d %H:%M} ({center.tz.key})", file=out)
    _print_decision(decision, out, intake=_intake(center.at(at), decision, args.fields))
    return EXIT_OK


def _intake(center: Center, decision: Decision, fields: list[str]) -> tuple[str, str] | None:
    """The intake a decision records into and what the caller keyed in (``fields``, one per field), as the IVR's step takes it."""
    intake = center.intake(decision.mailbox)
    if intake is None:
        return None
    steps = registry.kind(Outcome.VOICEMAIL).step(center, decision, "")
    keyed = iter(fields)
    try:
        command = next(steps)
        while True:
            assert isinstance(command, GetDigits)
            command = steps.send(next(keyed, "")[: command.max_digits])
    except StopIteration as stop:
        return intake.id, stop.value.values[c.VAR_MESSAGE_FIELDS]


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


def _print_decision(decision: Decision, out: TextIO, indent: str = "  ", intake: tuple[str, str] | None = None) -> None:
    """The trace and the Result line; ``intake``: the message intake recorded into and the fields keyed in."""
    trace = list(decision.ctx.trace)
    if intake is not None:
        trace += [f"keyed in: {intake[1]}" if intake[1] else "nothing to key in", "records the message into the spool for the next batch"]
    for number, line in enumerate(trace, 1):
        print(f"{indent}{number:2d}. {line}", file=out)
    d = decision
    parts = [
        f"outcome={d.outcome.value}",
        f"tenant={d.tenant or '-'}",
        f"entry={d.ctx.entry_id or '-'}",  # the further line's id, as the trace and the figures say
        f"topic={d.ctx.topic or '-'}",
    ]
    for name in ("queue", "department", "number", "mailbox"):
        value = getattr(d, name)
        if value:
            parts.append(f"{name}={value}")
    if intake is not None:
        parts += [f"intake={intake[0]}", f'fields="{intake[1]}"']
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


def _schema(args: argparse.Namespace, env: Environment, out: TextIO) -> int:
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.out is None:
        out.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=out)
    return EXIT_OK


CONFIG_COMMANDS = {"validate": _validate, "simulate": _simulate, "schema": _schema}
