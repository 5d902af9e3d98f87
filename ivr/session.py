"""The IVR call flow as a sans-IO session: engine steps in, AGI commands out.

``session()`` is a generator: it yields commands (play a prompt, wait for a
key, set a variable), receives each command's result (the key pressed, or
None) and returns the final Decision. The FastAGI server and the classic AGI
script carry the commands out; the flow itself exists once.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime

from outcomes import registry
from outcomes.commands import Command, Ending, SetVariable, Stream, WaitDigit, path
from pbx import contract as c
from routing.engine import KEYS, Ask, Call, Context, Decision, Live, Outcome, Resume, Step, menu_again, press, resume, start
from routing.model import Center

Session = Generator[Command, str | None, Decision]


def session(center: Center, call: Call, now: datetime, live: Live, prompts: str) -> Session:
    """Run one call: menus until a decision, then its announcements and variables.

    ``prompts`` is the prompts folder as Asterisk sees it (absolute path).
    """
    center = center.at(now)  # the config of the call's day (dated changes), for the callback and intake steps too
    step: Step = start(center, call, now, live)
    while True:
        while isinstance(step, Ask):
            key = yield from _ask(step, prompts)
            step = press(center, step, key, live)
        ending = yield from _finish(center, step, prompts)
        if ending.back_to is None:
            return step
        step = menu_again(center, step)  # e.g. an info's back key: the caller chooses again


def resumed(center: Center, back: Resume, now: datetime, live: Live, prompts: str) -> Session:
    """After a queue timeout or an unanswered forward: the next decision."""
    center = center.at(now)
    step = resume(center, back, now, live)
    if isinstance(step, Ask):  # not reachable with a valid config: overflow targets are never menus
        step = press(center, step, None, live)
    assert isinstance(step, Decision)
    yield from _finish(center, step, prompts)
    return step


def queue_callback(center: Center, back: Resume, now: datetime, prompts: str) -> Session:
    """A caller waiting in ``back.ref`` pressed the callback key: take the number; they keep their place."""
    center = center.at(now)
    tenant = center.tenants.get(back.tenant or "")
    topic = tenant.topics.get(back.topic or "") if tenant else None
    ctx = Context(now, tenant, back.entry, back.caller, topic.id if topic else None, topic.name if topic else None, line=back.line)
    ctx = ctx.note(f"queue {back.ref}: the caller pressed the callback key and keeps their place")
    decision = Decision(Outcome.CALLBACK, ctx, "queue_callback", queue=back.ref)
    yield from _finish(center, decision, prompts)
    return decision


def _ask(step: Ask, prompts: str) -> Generator[Command, str | None, str | None]:
    for prompt in step.play:
        key = yield Stream(path(prompts, prompt), KEYS)
        if key:
            return key
    return (yield WaitDigit(step.timeout * 1000))


def _finish(center: Center, decision: Decision, prompts: str) -> Generator[Command, str | None, Ending]:
    """The decision's announcements, its outcome's own step, then the decision handed to the dialplan."""
    for prompt in decision.play:
        yield Stream(path(prompts, prompt))
    ending = yield from registry.kind(decision.outcome).step(center, decision, prompts)
    if ending.back_to is None:
        # One command for the whole decision: Asterisk's res_agi reads one command, answers it and drops
        # whatever else was already sent (pipelining hung calls in the lab), so every command is a round trip.
        yield SetVariable(c.VAR_DECISION, c.pack(decision_values(decision, prompts) | ending.values))
    return ending


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
        c.VAR_CALLBACK_NUMBER: "",
        c.VAR_PROMISE: "",
        c.VAR_MESSAGE_FIELDS: "",
        c.VAR_MESSAGE_INTAKE: "",
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
