"""Agents' figures from Asterisk's queue_log: logged-in time, pause time by reason, calls handled, handle time, occupancy.

Asterisk writes every log-in (ADDMEMBER), log-out (REMOVEMEMBER), pause with its
reason (PAUSE, PAUSEALL) and end of pause (UNPAUSE, UNPAUSEALL), and each
handled call (COMPLETECALLER / COMPLETEAGENT with its talk time) under the
member's name. An agent is logged in while a member of at least one queue and
paused from a pause until the next unpause.

    handle time  = talk time + the queue's wrap-up time, per call
    occupancy    = the handle time of all calls / (logged-in time - pause time)

Per-person figures are a matter for the works council in German public
employers: by default the figures are per team (an agents.yaml group; an agent
counts in each of their groups), and a team with fewer than ``min_team``
agents in the period is not shown on its own. ``agent_figures: person`` in
agents.yaml switches to one row per agent. Pure: lines in, figures out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from metrics.queue_log import fields

LOGIN, LOGOUT = "ADDMEMBER", "REMOVEMEMBER"
PAUSES, UNPAUSES = ("PAUSE", "PAUSEALL"), ("UNPAUSE", "UNPAUSEALL")
COMPLETES = ("COMPLETECALLER", "COMPLETEAGENT")


@dataclass
class Figures:
    agents: int = 0
    logged_in: float = 0.0  # seconds
    paused: dict[str, float] = field(default_factory=dict)  # reason -> seconds
    calls: int = 0
    talk: float = 0.0
    handle: float = 0.0  # talk + wrap-up

    @property
    def pause_total(self) -> float:
        return sum(self.paused.values())

    @property
    def occupancy(self) -> float | None:
        """Percent of the ready time (logged in, not paused) spent handling calls."""
        ready = self.logged_in - self.pause_total
        return min(100.0, 100.0 * self.handle / ready) if ready > 0 else None

    @property
    def aht(self) -> float | None:
        return self.handle / self.calls if self.calls else None


@dataclass
class _Agent:
    queues: set[str] = field(default_factory=set)
    since: float | None = None  # logged in since
    pause: tuple[str, float] | None = None  # reason, since
    figures: Figures = field(default_factory=Figures)


def per_agent(lines: Iterable[str], start: float, end: float, wrapup: Mapping[str, int]) -> tuple[dict[str, Figures], int]:
    """Member name -> figures within [start, end); and the number of unreadable lines."""
    agents: dict[str, _Agent] = defaultdict(_Agent)
    unreadable = 0

    def close_pause(agent: _Agent, at: float) -> None:
        if agent.pause is not None:
            reason, since = agent.pause
            seconds = max(0.0, min(at, end) - max(since, start))
            agent.figures.paused[reason] = agent.figures.paused.get(reason, 0.0) + seconds
            agent.pause = None

    def close_login(agent: _Agent, at: float) -> None:
        if agent.since is not None:
            agent.figures.logged_in += max(0.0, min(at, end) - max(agent.since, start))
            agent.since = None

    for line in lines:
        parts = fields(line)
        if parts is None:
            unreadable += 1
            continue
        stamp, _, queue, name, event, *data = parts
        at = float(stamp)
        if at >= end or name in ("NONE", ""):
            continue
        agent = agents[name]
        if event == LOGIN:
            agent.queues.add(queue)
            agent.since = agent.since if agent.since is not None else at
        elif event == LOGOUT:
            agent.queues.discard(queue)
            if not agent.queues:
                close_pause(agent, at)
                close_login(agent, at)
        elif event in PAUSES and agent.pause is None:
            agent.pause = ((data[0] if data else "") or "ohne Grund", at)
        elif event in UNPAUSES:
            close_pause(agent, at)
        elif event in COMPLETES and at >= start:
            try:
                talk = float(data[1])
            except (IndexError, ValueError):
                unreadable += 1
                continue
            agent.figures.calls += 1
            agent.figures.talk += talk
            agent.figures.handle += talk + wrapup.get(queue, 0)
    for agent in agents.values():  # still logged in or paused at the end of the period
        close_pause(agent, end)
        close_login(agent, end)
    found = {name: a.figures for name, a in agents.items() if a.figures.logged_in or a.figures.calls}
    for figures in found.values():
        figures.agents = 1
    return found, unreadable


def add(into: Figures, more: Figures) -> None:
    into.agents += more.agents
    into.logged_in += more.logged_in
    into.calls += more.calls
    into.talk += more.talk
    into.handle += more.handle
    for reason, seconds in more.paused.items():
        into.paused[reason] = into.paused.get(reason, 0.0) + seconds


def per_team(by_agent: Mapping[str, Figures], teams: Mapping[str, tuple[str, ...]], min_team: int) -> tuple[dict[str, Figures], int]:
    """Group -> the summed figures of its agents (member name -> groups); teams under min_team agents are left out.

    Returns the teams shown and the number of agents who appear only in teams too small to be shown."""
    found: dict[str, Figures] = {}
    for name, figures in by_agent.items():
        for team in teams.get(name, ("ohne Team",)):
            add(found.setdefault(team, Figures()), figures)
    shown = {team: f for team, f in found.items() if f.agents >= min_team}
    hidden = {name for name in by_agent if not any(t in shown for t in teams.get(name, ("ohne Team",)))}
    return dict(sorted(shown.items())), len(hidden)
