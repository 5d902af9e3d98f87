"""Routing cases: calls an admin writes down with the result they expect.

``lotse simulate --cases FILE`` runs them against a config before it is
loaded, so that a change to the routing can be tested like code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path as FsPath
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from routing.engine import KEYS, TIMEOUT_KEY, Call, Decision, Live, decide
from routing.model import Center
from routing.problems import Location, Problem, did_you_mean
from routing.schema import Model
from routing.validate import validate_model
from routing.yamlsource import read_document

EXPECTABLE = ("outcome", "tenant", "entry", "topic", "queue", "department", "reason", "mailbox")


class LiveSpec(Model):
    agents: dict[str, int] | None = Field(None, description="agents logged in per queue")
    waiting: dict[str, int] = Field(default_factory=dict)
    emergencies: list[str] = Field(default_factory=list, description="tenant/emergency ids switched on")

    @field_validator("emergencies")
    @classmethod
    def _pairs(cls, values: list[str]) -> list[str]:
        for value in values:
            if value.count("/") != 1:
                raise ValueError(f"'{value}' must be written as tenant/emergency, e.g. minden/bombe")
        return values

    def live(self) -> Live:
        pairs = frozenset(tuple(v.split("/", 1)) for v in self.emergencies)
        return Live(self.agents, self.waiting, pairs)  # type: ignore[arg-type]


class Expect(Model):
    """What a case must come to; keys left out are not compared, null means 'none'."""

    outcome: str | None = None
    tenant: str | None = None
    entry: str | None = None
    topic: str | None = None
    queue: str | None = None
    department: str | None = None
    reason: str | None = None
    mailbox: str | None = None


class CaseSpec(Model):
    name: str
    to: str
    from_: str | None = Field(None, alias="from")
    at: str = Field(description="local time in the center's time zone, YYYY-MM-DD HH:MM")
    digits: str = Field("", description="keys pressed, one per menu; T for a timeout")
    live: LiveSpec = Field(default_factory=LiveSpec)
    expect: Expect

    @field_validator("at")
    @classmethod
    def _time(cls, value: str) -> str:
        parse_local(value, ZoneInfo("UTC"))
        return value

    @field_validator("digits")
    @classmethod
    def _keys(cls, value: str) -> str:
        check_keys(value)
        return value


class CasesFile(Model):
    cases: list[CaseSpec] = Field(min_length=1)


def check_keys(keys: str) -> None:
    for position, key in enumerate(keys, 1):
        if key not in KEYS and key != TIMEOUT_KEY:
            raise ValueError(f"key {position} ('{key}') is not a telephone key; use 0-9, *, # or {TIMEOUT_KEY} for a timeout")


def parse_local(text: str, tz: ZoneInfo) -> datetime:
    """``YYYY-MM-DD HH:MM`` as a wall-clock time in ``tz``; rejects times that DST skips."""
    try:
        naive = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"'{text}' is not a time; write it as YYYY-MM-DD HH:MM, e.g. 2026-11-23 10:00") from None
    local = naive.replace(tzinfo=tz)
    if local.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError(f"'{text}' does not exist in {tz.key}: the clocks skip it for daylight saving time")
    return local


@dataclass(frozen=True)
class CaseResult:
    name: str
    location: Location | None
    decision: Decision
    mismatches: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.mismatches


def load_cases(file: FsPath) -> tuple[list[tuple[CaseSpec, Location | None]], list[Problem]]:
    source = read_document(file)
    if source.problems:
        return [], source.problems
    parsed = validate_model(source, CasesFile, source.data, ())
    if parsed is None:
        return [], source.problems
    return [(case, source.locate(("cases", i))) for i, case in enumerate(parsed.cases)], []


def live_problems(center: Center, live: Live) -> list[tuple[str, str]]:
    """(field, message) for what the live facts name that the config does not have, with did-you-mean hints."""
    found = []
    for field, counts in (("agents", live.agents or {}), ("waiting", live.waiting)):
        found += [(field, f"unknown queue '{q}' ({did_you_mean(q, center.queues)})") for q in counts if q not in center.queues]
    for tenant_id, emergency_id in sorted(live.emergencies):
        tenant = center.tenants.get(tenant_id)
        if tenant is None:
            found.append(("emergencies", f"unknown tenant '{tenant_id}' ({did_you_mean(tenant_id, center.tenants)})"))
        elif emergency_id not in tenant.emergencies:
            hint = did_you_mean(emergency_id, tenant.emergencies)
            found.append(("emergencies", f"tenant '{tenant_id}' has no emergency '{emergency_id}' ({hint})"))
    return found


def case_problems(center: Center, case: CaseSpec) -> list[str]:
    """Why a case cannot run against this config (a time that DST skips, live facts that name nothing)."""
    found = []
    try:
        parse_local(case.at, center.tz)
    except ValueError as exc:
        found.append(f"at: {exc}")
    return found + [f"live.{field}: {message}" for field, message in live_problems(center, case.live.live())]


def run_case(center: Center, case: CaseSpec, location: Location | None) -> CaseResult:
    at = parse_local(case.at, center.tz)
    decision = decide(center, Call(case.to, case.from_), at, case.live.live(), case.digits)
    actual = actual_values(decision)
    mismatches = []
    for key in EXPECTABLE:
        if key not in case.expect.model_fields_set:
            continue  # not given: not compared; given as null: expected to be empty
        wanted = getattr(case.expect, key)
        if wanted != actual[key]:
            mismatches.append(f"{key}: expected {wanted}, got {actual[key]}")
    return CaseResult(case.name, location, decision, tuple(mismatches))


def actual_values(decision: Decision) -> dict[str, Any]:
    return {
        "outcome": decision.outcome.value,
        "tenant": decision.tenant,
        "entry": decision.ctx.entry_id or None,
        "topic": decision.ctx.topic,
        "queue": decision.queue,
        "department": decision.department,
        "reason": decision.reason,
        "mailbox": decision.mailbox,
    }
