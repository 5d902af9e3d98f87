"""The IVR call flow as a sans-IO session: engine steps in, AGI commands out.

``session()`` is a generator: it yields commands (play a prompt, wait for a
key, set a variable), receives each command's result (the key pressed, or
None) and returns the final Decision. The FastAGI server and the classic AGI
script carry the commands out; the flow itself exists once.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime

from ivr import contract as c
from routing.engine import KEYS, Ask, Call, Decision, Live, Resume, Step, press, resume, start
from routing.model import Center, Prompt


@dataclass(frozen=True, slots=True)
class Stream:
    """Play a file; with escape keys, a key press stops it and is the result."""

    file: str
    escape: str = ""


@dataclass(frozen=True, slots=True)
class WaitDigit:
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class SetVariable:
    name: str
    value: str


Command = Stream | WaitDigit | SetVariable
Session = Generator[Command, str | None, Decision]


def session(center: Center, call: Call, now: datetime, live: Live, prompts: str) -> Session:
    """Run one call: menus until a decision, then its announcements and variables.

    ``prompts`` is the prompts folder as Asterisk sees it (absolute path).
    """
    step: Step = start(center, call, now, live)
    while isinstance(step, Ask):
        key = yield from _ask(step, prompts)
        step = press(center, step, key, live)
    yield from _finish(step, prompts)
    return step


def resumed(center: Center, back: Resume, now: datetime, live: Live, prompts: str) -> Session:
    """After a queue timeout or an unanswered forward: the next decision."""
    step = resume(center, back, now, live)
    if isinstance(step, Ask):  # not reachable with a valid config: overflow targets are never menus
        step = press(center, step, None, live)
    assert isinstance(step, Decision)
    yield from _finish(step, prompts)
    return step


def _ask(step: Ask, prompts: str) -> Generator[Command, str | None, str | None]:
    for prompt in step.play:
        key = yield Stream(_path(prompts, prompt), KEYS)
        if key:
            return key
    return (yield WaitDigit(step.timeout * 1000))


def _finish(decision: Decision, prompts: str) -> Generator[Command, str | None, None]:
    for prompt in decision.play:
        yield Stream(_path(prompts, prompt))
    # One command for the whole decision: Asterisk's res_agi reads one command, answers it and drops
    # whatever else was already sent (pipelining hung calls in the lab), so every command is a round trip.
    yield SetVariable(c.VAR_DECISION, c.pack(decision_values(decision, prompts)))


def _path(prompts: str, prompt: Prompt) -> str:
    return f"{prompts.rstrip('/')}/{prompt.file}"


def channel_variables(decision: Decision, prompts: str) -> dict[str, str]:
    """The dialplan contract's variables for a decision; inherited ones carry the __ prefix."""
    return {(f"__{name}" if name in c.INHERITED else name): value for name, value in decision_values(decision, prompts).items()}


def decision_values(decision: Decision, prompts: str) -> dict[str, str]:
    """The dialplan contract's variables for a decision, by their names."""
    ctx = decision.ctx
    tenant = ctx.tenant
    whisper = [f"whisper/tenant/{tenant.id}" if tenant else "whisper/tenant/115"]
    if ctx.topic:
        whisper.append(f"whisper/topic/{ctx.topic}")
    values = {
        c.VAR_OUTCOME: decision.outcome.value,
        c.VAR_REASON: decision.reason,
        c.VAR_TENANT: tenant.id if tenant else "",
        c.VAR_TENANT_NAME: tenant.name if tenant else "115",
        c.VAR_ENTRY: ctx.entry_id,
        c.VAR_TOPIC: ctx.topic or "",
        c.VAR_TOPIC_NAME: ctx.topic_name or "",
        c.VAR_QUEUE: decision.queue or "",
        c.VAR_PRIORITY: str(decision.priority),
        c.VAR_QUEUE_TIMEOUT: str(decision.queue_timeout or ""),
        c.VAR_DEPARTMENT: decision.department or "",
        c.VAR_NUMBER: decision.number or "",
        c.VAR_RING_TIMEOUT: str(decision.ring_timeout or ""),
        c.VAR_MAILBOX: decision.mailbox or "",
        c.VAR_CALLER: ctx.caller or "",
        c.VAR_AGENT_LABEL: decision.agent_label,
        c.VAR_WHISPER: "&".join(f"{prompts.rstrip('/')}/{w}" for w in whisper),
    }
    return values


def run(steps: Session, results: dict[Command, str | None] | None = None) -> tuple[list[Command], Decision]:
    """Drive a session without Asterisk: every command gets ``results.get(command)``.

    For tests and the simulator; the adapters do the same against a channel.
    """
    commands: list[Command] = []
    try:
        command = next(steps)
        while True:
            commands.append(command)
            command = steps.send((results or {}).get(command))
    except StopIteration as stop:
        return commands, stop.value
