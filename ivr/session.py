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

from pbx import contract as c
from render.prompts import CALLBACK_PROMPTS, promise_prompt
from routing.engine import KEYS, Ask, Call, Context, Decision, Live, Outcome, Resume, Step, press, resume, start
from routing.model import Center, Prompt
from routing.promises import CallbackNumberError, callback_number, callback_queue, due_hours, national, promise_kind

KEY_IN_ATTEMPTS = 3  # a caller who keys in a number lotse cannot call back may try this often


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


@dataclass(frozen=True, slots=True)
class GetDigits:
    """Play a file and collect up to ``max_digits`` keys, ended by # or the timeout; the result is the digits."""

    file: str
    timeout_ms: int
    max_digits: int


Command = Stream | WaitDigit | SetVariable | GetDigits
Session = Generator[Command, str | None, Decision]


def session(center: Center, call: Call, now: datetime, live: Live, prompts: str) -> Session:
    """Run one call: menus until a decision, then its announcements and variables.

    ``prompts`` is the prompts folder as Asterisk sees it (absolute path).
    """
    center = center.at(now)  # the config of the call's day (dated changes), for the callback and intake steps too
    step: Step = start(center, call, now, live)
    while isinstance(step, Ask):
        key = yield from _ask(step, prompts)
        step = press(center, step, key, live)
    yield from _finish(center, step, prompts)
    return step


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
        key = yield Stream(_path(prompts, prompt), KEYS)
        if key:
            return key
    return (yield WaitDigit(step.timeout * 1000))


def _finish(center: Center, decision: Decision, prompts: str) -> Generator[Command, str | None, None]:
    for prompt in decision.play:
        yield Stream(_path(prompts, prompt))
    values = decision_values(decision, prompts)
    if decision.outcome is Outcome.CALLBACK:
        promise = promise_kind(decision.reason)
        number = yield from _callback_number(decision.ctx.caller, center.country_code, prompts)
        if number:
            hours = due_hours(center, decision.tenant, decision.ctx.entry_id, decision.ctx.topic, decision.department)
            yield Stream(f"{prompts.rstrip('/')}/{promise_prompt(promise, hours).file}")
        queue = decision.queue or callback_queue(center, decision.ctx.tenant, decision.ctx.topic)
        values |= {c.VAR_CALLBACK_NUMBER: number, c.VAR_PROMISE: promise, c.VAR_QUEUE: queue or ""}
    elif decision.outcome is Outcome.VOICEMAIL and (intake := center.intake(decision.mailbox)) is not None:
        keyed = []
        for field in intake.fields:  # e.g. the school's number, before the message is recorded
            digits = yield GetDigits(_path(prompts, field.prompt), 10000, field.max_digits)
            keyed.append(f"{field.name}={digits or '-'}")
        values[c.VAR_MESSAGE_FIELDS] = "; ".join(keyed)
        values[c.VAR_MESSAGE_INTAKE] = intake.id
    # One command for the whole decision: Asterisk's res_agi reads one command, answers it and drops
    # whatever else was already sent (pipelining hung calls in the lab), so every command is a round trip.
    yield SetVariable(c.VAR_DECISION, c.pack(values))


def _callback_number(caller: str | None, country_code: str, prompts: str) -> Generator[Command, str | None, str]:
    """Read the caller's number back to confirm it, or take another one keyed in; '' when none could be taken."""
    folder = prompts.rstrip("/")
    if caller is not None:
        try:
            known = callback_number(national(caller, country_code), country_code)
        except CallbackNumberError:
            known = None  # e.g. a foreign caller ID: a German number must be keyed in
        if known is not None:
            yield Stream(f"{folder}/{CALLBACK_PROMPTS['your-number'].file}")
            for digit in national(known, country_code):
                yield Stream(f"{folder}/digits/{digit}")
            key = yield Stream(f"{folder}/{CALLBACK_PROMPTS['confirm'].file}", "12")
            if key is None:
                key = yield WaitDigit(5000)
            if key != "2":  # 1, or nothing pressed: the number is right
                return known
    for _ in range(KEY_IN_ATTEMPTS):
        keyed = yield GetDigits(f"{folder}/{CALLBACK_PROMPTS['enter'].file}", 10000, 16)
        try:
            return callback_number(keyed or "", country_code)
        except CallbackNumberError:
            yield Stream(f"{folder}/{CALLBACK_PROMPTS['invalid'].file}")
    yield Stream(f"{folder}/{CALLBACK_PROMPTS['none'].file}")
    return ""


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
