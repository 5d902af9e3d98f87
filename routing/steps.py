"""What the engine's steps are made of: the call, the live facts, the context, and the two kinds of step.

``Ask`` (a menu waits for a key) and ``Decision`` (where the call ends up in lotse). Pure data.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from routing.model import Entry, Outcome, Prompt, Target, Tenant


@dataclass(frozen=True, slots=True)
class Call:
    dialled: str
    caller: str | None = None


@dataclass(frozen=True, slots=True)
class Live:
    """Facts from the running system; unknown facts never block a call."""

    agents: Mapping[str, int] | None = None  # agents logged in per queue; None or a missing queue: unknown
    waiting: Mapping[str, int] = field(default_factory=dict)  # callers waiting per queue
    emergencies: frozenset[tuple[str, str]] = frozenset()  # (tenant, emergency) switched on


@dataclass(frozen=True, slots=True)
class Context:
    """What is known about the call so far."""

    now: datetime  # when the call arrived; all opening hours are checked against it
    tenant: Tenant | None
    entry: Entry | None
    caller: str | None  # key form, None when hidden or unreadable
    topic: str | None = None
    topic_name: str | None = None
    played: tuple[Prompt, ...] = ()
    trace: tuple[str, ...] = ()
    line: str | None = None  # the id of the tenant's further entry the call came in on

    @property
    def entry_id(self) -> str:
        """What the figures count the call under: the entry's id, else own, 115 or emergency."""
        return self.line or (self.entry.value if self.entry else "")

    # Explicit constructors: dataclasses.replace() introspects fields on every
    # call and was 40 % of a decision's time (bench/bench_routing.py).

    def note(self, line: str) -> Context:
        trace = (*self.trace, line)
        return Context(self.now, self.tenant, self.entry, self.caller, self.topic, self.topic_name, self.played, trace, self.line)

    def play(self, *prompts: Prompt | None) -> Context:
        real = tuple(p for p in prompts if p is not None)
        if not real:
            return self
        lines = tuple(play_line(p) for p in real)
        played, trace = (*self.played, *real), (*self.trace, *lines)
        return Context(self.now, self.tenant, self.entry, self.caller, self.topic, self.topic_name, played, trace, self.line)

    def with_tenant(self, tenant: Tenant | None, entry: Entry, line: str | None = None) -> Context:
        return Context(self.now, tenant, entry, self.caller, self.topic, self.topic_name, self.played, self.trace, line)

    def with_topic(self, topic: str, name: str) -> Context:
        return Context(self.now, self.tenant, self.entry, self.caller, topic, name, self.played, self.trace, self.line)


@functools.lru_cache(maxsize=4096)
def play_line(prompt: Prompt) -> str:
    """The trace line of a prompt; cached: the same prompts play on every call."""
    return f"plays {prompt.file}" + (f": {_short(prompt.text)}" if prompt.text else "")


def _short(text: str, size: int = 70) -> str:
    flat = " ".join(text.split())
    return f'"{flat}"' if len(flat) <= size else f'"{flat[: size - 3]}..."'


@dataclass(frozen=True, slots=True)
class Ask:
    """A menu is being played; the caller's next key decides."""

    ctx: Context
    menu: str
    attempt: int  # 1 for the first time the menu is played
    play: tuple[Prompt, ...]  # to play now, the last one listening for keys
    timeout: int  # seconds to wait for a key after the prompts


@dataclass(frozen=True, slots=True)
class Decision:
    """Where the call ends up in lotse; the dialplan carries it out."""

    outcome: Outcome
    ctx: Context
    reason: str  # short tag: in_hours, closed, holiday, emergency, overflow, ...
    play: tuple[Prompt, ...] = ()  # announcements to play before carrying it out
    queue: str | None = None
    priority: int = 0
    queue_timeout: int | None = None  # max wait in the queue, then overflow
    overflow: Target | None = None
    department: str | None = None
    number: str | None = None  # what to dial for a department
    ring_timeout: int | None = None
    unanswered: Target | None = None  # what follows when the department does not answer
    ref: str | None = None  # what an outcome without live facts leads to: a mailbox, an announcement's id
    menu: str | None = None  # the menu the caller chose it in (an announcement's back key returns there)

    @property
    def mailbox(self) -> str | None:
        return self.ref if self.outcome is Outcome.VOICEMAIL else None

    @property
    def tenant(self) -> str | None:
        return self.ctx.tenant.id if self.ctx.tenant else None

    @property
    def agent_label(self) -> str:
        """What the agent sees and hears: '[Stadt Wesel] Personalausweis'."""
        if self.ctx.tenant is not None:
            tenant = self.ctx.tenant.name
        else:  # a 115 call that no tenant takes, or a number lotse does not know (the fallback)
            tenant = "115" if self.ctx.entry is Entry.SERVICE_115 else "unbekannte Nummer"
        return f"[{tenant}] {self.ctx.topic_name or ''}".rstrip()


Step = Ask | Decision


@dataclass(frozen=True, slots=True)
class Resume:
    """A call coming back to lotse after its queue's max_wait ran out or a department did not answer."""

    outcome: Outcome  # QUEUE or DEPARTMENT: what was tried
    ref: str  # the queue or department id
    tenant: str | None
    entry: Entry | None
    topic: str | None
    caller: str | None
    line: str | None = None  # the tenant's further entry, when the call came in on one
