"""How a call ended, in the agent's words: the disposition, and first-contact resolution from it.

An agent records it after the call, during wrap-up: on the phone with a code
(``*31`` solved, ``*32`` handed on, ``*33`` callback needed; the dialplan sends
the UserEvent LotseDisposition with the agent's id and the code) or on the
agent's web page. The phone code applies to the agent's last answered call
(the AgentConnect that lotse metrics saw); the web page names the call. A later
disposition of the same call replaces the earlier one.

First-contact resolution (FCR) = calls disposed as solved / answered calls with
a disposition, in percent. Answered calls without one are counted apart (the
report shows them), never as solved or unsolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Column, Engine, Float, String, Table, func, select, update
from sqlalchemy.exc import IntegrityError

from metrics.store import calls, metadata
from pbx import contract

CODES, LABELS, USER_EVENT = contract.DISPOSITIONS, contract.DISPOSITION_LABELS, contract.DISPOSITION_EVENT

dispositions = Table(
    "dispositions",
    metadata,
    Column("uniqueid", String(64), primary_key=True),  # the caller channel's, as in calls
    Column("agent", String(80), nullable=False),
    Column("code", String(16), nullable=False),  # solved, handed_on, callback
    Column("at", Float, nullable=False),
    Column("source", String(8), nullable=False),  # phone or web
)


@dataclass(frozen=True, slots=True)
class Disposition:
    uniqueid: str
    agent: str
    code: str
    at: float
    source: str


def agent_key(interface: str) -> str:
    """PJSIP/anna and Local/anna@lotse-lab-agents/n -> anna (the id the agent's phone sends)."""
    return interface.split("/", 1)[-1].split("@", 1)[0].split("/", 1)[0]


class Desk:
    """AMI events -> dispositions given by phone code (pure)."""

    def __init__(self) -> None:
        self.last_call: dict[str, str] = {}  # agent id -> the caller unique id of their last answered call
        self.unmatched = 0  # codes from an agent with no answered call seen

    def feed(self, event: Mapping[str, str], now: float) -> Disposition | None:
        name = event.get("Event")
        if name == "AgentConnect" and event.get("Interface") and event.get("Uniqueid"):
            self.last_call[agent_key(event["Interface"])] = event["Uniqueid"]
        elif name == "UserEvent" and event.get("UserEvent") == USER_EVENT:
            agent, code = event.get("Agent", ""), CODES.get(event.get("Code", ""))
            call = self.last_call.get(agent)
            if code is None or call is None:
                self.unmatched += 1
                return None
            return Disposition(call, agent, code, now, "phone")
        return None


def save(engine: Engine, items: Iterable[Disposition]) -> int:
    """Insert or replace each call's disposition; returns how many were written."""
    written = 0
    with engine.begin() as conn:
        for item in items:
            row = {"agent": item.agent[:80], "code": item.code, "at": item.at, "source": item.source}
            changed = conn.execute(update(dispositions).where(dispositions.c.uniqueid == item.uniqueid).values(**row)).rowcount
            if not changed:
                try:
                    with conn.begin_nested():
                        conn.execute(dispositions.insert().values(uniqueid=item.uniqueid[:64], **row))
                except IntegrityError:  # written by another process in between: update it
                    conn.execute(update(dispositions).where(dispositions.c.uniqueid == item.uniqueid).values(**row))
            written += 1
    return written


def of_calls(engine: Engine, start: float, end: float) -> dict[str, str]:
    """Caller unique id -> code, for the calls that arrived in [start, end)."""
    query = (
        select(dispositions.c.uniqueid, dispositions.c.code)
        .join(calls, calls.c.uniqueid == dispositions.c.uniqueid)
        .where(calls.c.arrived >= start, calls.c.arrived < end)
    )
    with engine.connect() as conn:
        return {r.uniqueid: r.code for r in conn.execute(query)}


def by_tenant(engine: Engine, start: float, end: float) -> dict[str, dict[str, int]]:
    """Tenant -> code -> answered calls with that disposition, for the calls that arrived in [start, end)."""
    query = (
        select(calls.c.tenant, dispositions.c.code, func.count())
        .join(calls, calls.c.uniqueid == dispositions.c.uniqueid)
        .where(calls.c.arrived >= start, calls.c.arrived < end, calls.c.answered.is_not(None))
        .group_by(calls.c.tenant, dispositions.c.code)
    )
    found: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for tenant, code, count in conn.execute(query):
            found.setdefault(tenant or "-", {})[code] = int(count)
    return found


@dataclass(frozen=True)
class Resolution:
    answered: int
    disposed: int
    by_code: dict[str, int]

    @property
    def fcr(self) -> float | None:
        """Percent of the disposed answered calls that were solved."""
        return 100.0 * self.by_code.get("solved", 0) / self.disposed if self.disposed else None


def resolution(answered: Iterable[str], codes: Mapping[str, str]) -> Resolution:
    """FCR over the unique ids of answered calls and their codes (pure)."""
    ids = list(answered)
    by_code = dict.fromkeys(LABELS, 0)
    disposed = 0
    for uid in ids:
        code = codes.get(uid)
        if code is not None:
            disposed += 1
            by_code[code] = by_code.get(code, 0) + 1
    return Resolution(len(ids), disposed, by_code)
