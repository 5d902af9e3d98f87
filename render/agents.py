"""Agents' softphones: the agents file and the PJSIP/queue-member config rendered from it.

agents.yaml names each agent with the groups (skills) they take calls for;
a queue's ``members:`` list the groups it rings. Passwords never live in the
routing YAML: they come from ``${ENV}`` in the agents file or from a separate
secrets file (agent id -> password) readable only by the admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from pbx import contract as c
from routing.fields import Id
from routing.model import Center
from routing.problems import ConfigError, Problem, Severity, did_you_mean
from routing.schema import Model
from routing.validate import validate_model
from routing.yamlsource import read_document


class AgentSpec(Model):
    name: str = Field(description="shown on other phones and in reports")
    groups: list[Id] = Field(min_length=1, description="groups (skills) whose queues ring this agent")
    levels: dict[Id, Level] = Field(
        default_factory=dict, description="skill level per group: 3 expert (rung first), 2, 1 beginner (rung when no one better is free)"
    )
    password: str | None = Field(None, description="SIP password; better ${ENV} or the secrets file")
    penalty: int = Field(0, ge=0, le=100, description="queue penalty: higher is rung later")


Level = Annotated[int, Field(ge=1, le=3)]
Code = Annotated[str, StringConstraints(pattern=r"^[*#]?[0-9]{1,4}$")]
Digit = Annotated[str, StringConstraints(pattern=r"^[1-9]$")]
HandOnDigits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,3}$")]


class CodesSpec(Model):
    """The agents' feature codes; pause and disposition are followed by one digit (the reason, the code)."""

    state: Code = Field("*10", description="say one's state")
    login: Code = Field("*11", description="log in to the queues of one's groups")
    logout: Code = Field("*12", description="log out of them")
    pause: Code = Field("*21", description="pause: followed by the reason's digit")
    unpause: Code = Field("*22", description="ready again")
    disposition: Code = Field("*3", description="how the last call ended: followed by 1 solved, 2 handed on, 3 callback needed")


DEFAULT_REASONS = {"1": "Pause", "2": "Nachbearbeitung", "3": "Schulung", "4": "Backoffice"}


class FiguresSpec(Model):
    """Agents' figures in reports: per team by default (works council); per person only when switched on here."""

    per: Literal["team", "person"] = "team"
    min_team: int = Field(3, ge=1, le=50, description="a team with fewer agents in the period is not shown on its own")


class AgentsFile(Model):
    agents: dict[Id, AgentSpec] = Field(min_length=1)
    codes: CodesSpec = Field(default_factory=CodesSpec)
    pause_reasons: dict[Digit, str] = Field(default_factory=lambda: dict(DEFAULT_REASONS), description="digit -> reason")
    agent_figures: FiguresSpec = Field(default_factory=FiguresSpec)
    hand_on: dict[HandOnDigits, Id] = Field(
        default_factory=dict, description="digits dialled after the transfer code -> the department the caller is handed on to"
    )
    hand_on_timeout: int = Field(20, ge=5, le=120, description="seconds the department rings before the hand-on fails")


class SecretsFile(Model):
    passwords: dict[Id, str] = Field(default_factory=dict)
    ami_secret: str | None = None


@dataclass(frozen=True)
class Agent:
    id: str
    name: str
    groups: tuple[str, ...]
    password: str
    penalty: int
    levels: tuple[tuple[str, int], ...] = ()  # group -> skill level 1-3 (3 when not given)

    def penalty_in(self, groups: tuple[str, ...]) -> int:
        """The queue penalty where these groups are rung: the agent's penalty plus 10 per level below expert, at the best level."""
        levels = dict(self.levels)
        return self.penalty + min(10 * (3 - levels.get(g, 3)) for g in groups if g in self.groups)


@dataclass(frozen=True)
class Agents:
    agents: tuple[Agent, ...]
    ami_secret: str | None
    warnings: tuple[Problem, ...]
    codes: dict[str, str] = field(default_factory=lambda: CodesSpec().model_dump())
    pause_reasons: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REASONS))
    figures_per: str = "team"
    min_team: int = 3
    hand_on: dict[str, str] = field(default_factory=dict)  # digits -> department id
    hand_on_timeout: int = 20

    def by_id(self, agent_id: str) -> Agent | None:
        return next((a for a in self.agents if a.id == agent_id), None)


def code_clashes(codes: dict[str, str]) -> list[str]:
    """Pairs of codes where one would be dialled as the other (pure)."""
    takes_digit = {"pause", "disposition"}
    found = []
    names = sorted(codes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ca, cb = codes[a], codes[b]
            if ca == cb or (a in takes_digit and cb.startswith(ca)) or (b in takes_digit and ca.startswith(cb)):
                found.append(f"{a} ({ca}) and {b} ({cb})")
    return found


def read_secrets(path: Path) -> SecretsFile:
    """The secrets file (agents' SIP passwords, the AMI secret); raises ConfigError naming every problem."""
    source = read_document(path)
    checked = None if source.problems else validate_model(source, SecretsFile, source.data, ())
    if checked is None:
        raise ConfigError(source.problems)
    return checked


def load_agents(file: Path, secrets: Path | None, center: Center, passwords: bool = True) -> Agents:
    """Agents with their passwords (not needed, not checked: passwords=False, as for lotse web and reports);
    raises ConfigError naming every problem."""
    source = read_document(file)
    parsed = None if source.problems else validate_model(source, AgentsFile, source.data, ())
    secret_values = SecretsFile()
    if secrets is not None:
        try:
            secret_values = read_secrets(secrets)
        except ConfigError as exc:
            source.problems.extend(exc.problems)
    if parsed is None or any(p.severity is Severity.ERROR for p in source.problems):
        raise ConfigError(source.problems)
    queue_groups = {group for queue in center.queues.values() for group in queue.members}
    agents = []
    for agent_id, spec in parsed.agents.items():
        password = spec.password or secret_values.passwords.get(agent_id)
        if not passwords:
            password = ""
        elif not password:
            source.error(
                ("agents", agent_id), f"agent '{agent_id}' has no password", "set password: ${ENV_VAR} or add it to the secrets file"
            )
        elif len(password) < 12:
            source.error(
                ("agents", agent_id, "password"),
                f"the password of '{agent_id}' is shorter than 12 characters",
                "SIP passwords are attacked online",
            )
        for index, group in enumerate(spec.groups):
            if group not in queue_groups:
                source.warning(("agents", agent_id, "groups", index), f"no queue rings group '{group}'", did_you_mean(group, queue_groups))
        for group in spec.levels:
            if group not in spec.groups:
                source.error(("agents", agent_id, "levels", group), f"'{group}' has a level but is not one of the groups of '{agent_id}'")
        levels = tuple(sorted(spec.levels.items()))
        agents.append(Agent(agent_id, spec.name, tuple(spec.groups), password or "", spec.penalty, levels))
    for queue in center.queues.values():
        for group in queue.members:
            if not any(group in agent.groups for agent in agents):
                source.warning(("agents",), f"queue '{queue.id}' rings group '{group}', which no agent is in")
    codes = parsed.codes.model_dump()
    for clash in code_clashes(codes):
        source.error(("codes",), f"the codes {clash} cannot be told apart", "give each code its own digits")
    if any(p.severity is Severity.ERROR for p in source.problems):
        raise ConfigError(source.problems)
    for digits, department in parsed.hand_on.items():
        if department not in center.departments:
            source.error(("hand_on", digits), f"unknown department '{department}'", did_you_mean(department, set(center.departments)))
    if any(p.severity is Severity.ERROR for p in source.problems):
        raise ConfigError(source.problems)
    figures = parsed.agent_figures
    reasons = dict(sorted(parsed.pause_reasons.items()))
    return Agents(
        tuple(agents), secret_values.ami_secret, tuple(source.problems), codes, reasons, figures.per, figures.min_team,
        dict(parsed.hand_on), parsed.hand_on_timeout,
    )  # fmt: skip


def pjsip(agents: Agents) -> str:
    """Endpoints for agents' softphones; include after your transport in pjsip.conf."""
    lines = []
    for agent in agents.agents:
        lines += [
            f"; {agent.name}",
            f"[{agent.id}]",
            "type = endpoint",
            f"context = {c.CONTEXT_AGENTS}",  # extensions_agents_lotse.conf: feature codes and colleagues
            "disallow = all",
            "allow = g722,alaw,ulaw",
            "dtmf_mode = rfc4733",
            "direct_media = no",  # media stays with Asterisk: no re-INVITE to phones behind NAT or an SBC after the whisper
            "language = de",
            f"auth = {agent.id}",
            f"aors = {agent.id}",
            f'callerid = "{agent.name}" <{agent.id}>',
            "",
            f"[{agent.id}]",
            "type = auth",
            "auth_type = userpass",
            f"username = {agent.id}",
            f"password = {agent.password}",
            "",
            f"[{agent.id}]",
            "type = aor",
            "max_contacts = 1",
            "remove_existing = yes",
            "qualify_frequency = 30",  # a phone that went away is noticed within 30 s: callers are not rung at it
            "",
        ]
    return "\n".join(lines)


def manager_user(secret: str) -> str:
    """The AMI user lotse's metrics connect as; read access plus the actions it needs."""
    return "\n".join(
        [
            "; lotse's AMI user. Add to manager.conf's [general]:",
            f";   channelvars = {','.join(c.AMI_CHANNEL_VARIABLES)}",
            f"[{c.AMI_USER_METRICS}]",
            f"secret = {secret}",
            "deny = 0.0.0.0/0.0.0.0",
            "permit = 127.0.0.1/255.255.255.255",
            "; read: the events records are made of; write: CoreShowChannels (reporting) after a gap. QueueStatus needs",
            "; no class. Never system, command or originate: with them an AMI login could run shell commands on this host.",
            "read = system,call,agent,user,dialplan,reporting",
            "write = reporting",
            "",
            "; lotse promises' user: QueueStatus and Originate of callbacks (a Local channel into lotse's own contexts).",
            "; 'originate' cannot run System() without 'system', and dangerous functions stay off (live_dangerously = no).",
            f"[{c.AMI_USER_PROMISES}]",
            f"secret = {secret}",
            "deny = 0.0.0.0/0.0.0.0",
            "permit = 127.0.0.1/255.255.255.255",
            "read = call,user,reporting",
            "write = originate,reporting",
            "",
            "; lotse web's user: log agents in and out and pause them (QueueAdd, QueueRemove, QueuePause).",
            f"[{c.AMI_USER_WEB}]",
            f"secret = {secret}",
            "deny = 0.0.0.0/0.0.0.0",
            "permit = 127.0.0.1/255.255.255.255",
            "read = agent",
            "write = agent",
            "",
        ]
    )
