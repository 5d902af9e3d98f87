"""What the wallboard shows, computed from the live state and today's records (pure: no I/O).

Per queue: waiting callers, since when the longest has waited, agents by
state. Per tenant: today's calls, service level and reachability against the
targets (the report's definitions, docs/metrics.md). The emergency lines and
whether each is switched on. Never a caller's number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from metrics.kpi import Kpis, compute
from metrics.records import CallRecord
from metrics.report import target_within
from routing.model import Center
from stores.live import Snapshot

STATES = ("available", "ringing", "talking", "paused", "unavailable")
STATE_LABELS = {
    "available": "frei",
    "ringing": "klingelt",
    "talking": "im Gespräch",
    "paused": "in Pause",
    "unavailable": "nicht erreichbar",
    "logged_out": "abgemeldet",
    "unknown": "in unbekanntem Zustand",
}
_PRECEDENCE = ("talking", "ringing", "available", "paused", "unavailable")  # an agent in several queues shows the busiest


@dataclass(frozen=True)
class QueueView:
    id: str
    name: str
    waiting: int
    oldest: float | None  # when the longest-waiting caller joined (the page counts the seconds up)
    agents: dict[str, int]  # state -> number of agents


@dataclass(frozen=True)
class TenantView:
    id: str
    name: str
    calls: int
    offered: int
    answered: int
    service_level: float | None
    service_level_target: float | None
    within: int
    reachability: float | None
    reachability_target: float | None


@dataclass(frozen=True)
class EmergencyView:
    tenant: str
    tenant_name: str
    id: str
    name: str
    on: bool


@dataclass(frozen=True)
class AgentView:
    interface: str
    name: str
    state: str
    reason: str
    queues: tuple[str, ...]


@dataclass(frozen=True)
class Board:
    queues: tuple[QueueView, ...]
    tenants: tuple[TenantView, ...]
    emergencies: tuple[EmergencyView, ...]
    agents: tuple[AgentView, ...]
    changed: float  # the time of the newest event the board knows of

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def agents_of(snapshot: Snapshot) -> tuple[AgentView, ...]:
    """Every logged-in agent once, with the busiest state of their queues."""
    found: dict[str, list[tuple[str, str]]] = {}
    for queue, members in snapshot.members.items():
        for interface, state in members.items():
            found.setdefault(interface, []).append((queue, state))
    views = []
    for interface, memberships in found.items():
        states = {state for _, state in memberships}
        state = next((s for s in _PRECEDENCE if s in states), "available")
        name = snapshot.names.get(interface) or interface.split("/", 1)[-1].split("@", 1)[0]
        reason = snapshot.pauses.get(interface, "") if state == "paused" else ""
        views.append(AgentView(interface, name, state, reason, tuple(sorted(q for q, _ in memberships))))
    return tuple(sorted(views, key=lambda a: a.name.casefold()))


def tenant_figures(center: Center, records: Iterable[CallRecord]) -> tuple[TenantView, ...]:
    by_tenant: dict[str, list[CallRecord]] = {tenant: [] for tenant in center.tenants}
    for record in records:
        if record.tenant in by_tenant:
            by_tenant[record.tenant].append(record)
    views = []
    for tenant_id, tenant in center.tenants.items():
        within = target_within(center, ("tenant",), (tenant_id,))
        kpis: Kpis = compute(by_tenant[tenant_id], within)
        targets = tenant.targets
        views.append(
            TenantView(
                tenant_id,
                tenant.name,
                kpis.calls,
                kpis.offered,
                kpis.answered,
                kpis.service_level,
                targets.service_level_percent or center.targets.service_level_percent,
                within,
                kpis.reachability,
                targets.reachability or center.targets.reachability,
            )
        )
    return tuple(views)


def board(center: Center, snapshot: Snapshot, tenants: tuple[TenantView, ...], changed: float) -> Board:
    agents = agents_of(snapshot)
    queues = []
    for queue_id, queue in center.queues.items():
        waiting: Mapping[str, float] = snapshot.waiting.get(queue_id, {})
        counts = dict.fromkeys(STATES, 0)
        for agent in agents:
            if queue_id in agent.queues:
                counts[agent.state] += 1
        queues.append(QueueView(queue_id, queue.name, len(waiting), min(waiting.values(), default=None), counts))
    emergencies = tuple(
        EmergencyView(t.id, t.name, e.id, e.name, f"{t.id}/{e.id}" in snapshot.emergencies)
        for t in center.tenants.values()
        for e in t.emergencies.values()
    )
    return Board(tuple(queues), tenants, emergencies, agents, changed)
