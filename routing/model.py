"""The compiled routing model: what the engine reads at call time.

Built once by routing.build from validated YAML; immutable, with lookup tables
precomputed so that a routing decision is a handful of dict look-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from routing.numbers import PrefixTable
from routing.schedule import Schedule


class Entry(StrEnum):
    """How a call came in. A call to a tenant's further line is OWN, and counts under the line's id (Context.line)."""

    OWN = "own"  # one of the tenant's own numbers
    SERVICE_115 = "115"
    EMERGENCY = "emergency"  # an emergency line's own number, or a 115 call it caught


class Outcome(StrEnum):
    """Where lotse leaves a call: the one list of outcome kinds. Each has its module in outcomes/."""

    QUEUE = "queue"
    DEPARTMENT = "department"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    HANGUP = "hangup"
    INFO = "info"  # an information announcement of the tenant's, with repeat and back-to-menu keys


class Kind(StrEnum):
    """Where a target leads inside the IVR, before an outcome: a topic, a menu, a tenant (115's choice)."""

    TOPIC = "topic"
    MENU = "menu"
    TENANT = "tenant"


TargetKind = Kind | Outcome  # what a target sends a call to


def target_kind(name: str) -> TargetKind:
    """The kind of a target by its YAML key ('menu', 'queue', ...)."""
    return Kind(name) if name in Kind._value2member_map_ else Outcome(name)


@dataclass(frozen=True, slots=True)
class Prompt:
    file: str  # relative to the prompts folder, no extension
    text: str | None


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    ref: str | None  # id of topic/menu/department/queue/tenant, or mailbox
    announcement: Prompt | None = None


@dataclass(frozen=True, slots=True)
class Targets:
    service_level_percent: float | None
    service_level_within: int | None
    reachability: float | None
    asa: int | None
    first_contact_resolution: float | None = None


@dataclass(frozen=True, slots=True)
class Menu:
    id: str
    prompt: Prompt
    options: Mapping[str, Target]
    timeout: int
    retries: int
    invalid: Prompt | None
    no_input: Prompt | None
    default: Target


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    name: str
    queue: str
    priority: int
    due_hours: int | None = None  # a ticket's Rückmeldung, in service hours; None: the tenant's


@dataclass(frozen=True, slots=True)
class QueueCallback:
    key: str
    offer_after: int
    offer: Prompt


@dataclass(frozen=True, slots=True)
class Queue:
    id: str
    name: str
    strategy: str
    members: tuple[str, ...]
    max_wait: int | None
    max_callers: int | None
    overflow: Target | None
    ring_timeout: int
    wrapup: int
    announce_position: bool
    announce_holdtime: bool
    announce_frequency: int
    callback: QueueCallback | None = None
    autopause: str = "no"  # app_queue's autopause: no, yes (this queue), all


@dataclass(frozen=True, slots=True)
class Department:
    id: str
    name: str
    number: str
    schedule: Schedule | None  # None: always reachable
    ring_timeout: int
    announcement: Prompt | None
    closed: Target
    unanswered: Target
    email: str | None = None  # where its tickets are announced
    due_hours: int | None = None  # None: the topic's, tenant's or center's


@dataclass(frozen=True, slots=True)
class ClosedBehaviour:
    announcement: Prompt | None
    holiday_announcement: Prompt | None
    then: Target


@dataclass(frozen=True, slots=True)
class Emergency:
    id: str
    name: str
    announcement: Prompt
    queue: str | None
    mode: str  # "replace" or "announce" (the tenant's own numbers too), "line" (only its own numbers)
    ignore_hours: bool
    numbers: tuple[str, ...] = ()  # its own numbers (key form)
    when_off: Target | None = None  # a call to them while the line is off; None: as the tenant's own number
    catch_115: bool = False


@dataclass(frozen=True, slots=True)
class Info:
    """An information announcement a caller chooses (e.g. the collection dates): heard, repeated, or back to the menu."""

    id: str
    name: str
    announcement: Prompt
    keys: Prompt  # after the announcement, when the caller came from a menu: the repeat and the back key
    repeat_only: Prompt  # after it otherwise (e.g. a tenant's start): the repeat key
    repeat_key: str
    back_key: str
    plays: int  # how often it plays at the most
    timeout: int  # seconds to wait for a key after the keys prompt


@dataclass(frozen=True, slots=True)
class TenantEntry:
    """A further line of a tenant: its own numbers, start, hours; its calls count under its id as entry."""

    id: str
    name: str
    numbers: tuple[str, ...]
    schedule: Schedule
    greeting: Prompt | None
    closed: ClosedBehaviour
    start: Target


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str
    numbers: tuple[str, ...]
    state: str
    schedule: Schedule
    targets: Targets
    greeting: Prompt | None
    closed: ClosedBehaviour
    start: Target
    menus: Mapping[str, Menu]
    topics: Mapping[str, Topic]  # the tenant's own and the center-wide ones
    emergencies: Mapping[str, Emergency]
    entries: Mapping[str, TenantEntry]  # its further lines, by id
    due_hours: int | None = None
    infos: Mapping[str, Info] = field(default_factory=dict)  # its information announcements, by id


@dataclass(frozen=True, slots=True)
class Service115:
    numbers: tuple[str, ...]
    greeting: Prompt | None
    schedules: Mapping[str, Schedule]  # per tenant: 115 hours with that tenant's holidays
    schedule: Schedule  # 115 hours with the center's holidays: for 115 calls that no tenant takes
    closed_unassigned: ClosedBehaviour  # what those hear when 115 is closed: service_115.closed, else the center's
    targets: Targets
    prefixes: PrefixTable[Target]  # caller prefix -> tenant, or the menu of a prefix that several tenants share
    choices: Mapping[str, Menu]  # those menus: the caller chooses the administration
    unknown_caller: Target
    hidden_caller: Target
    closed: ClosedBehaviour | None
    due_hours: int = 24  # 115's promise


@dataclass(frozen=True, slots=True)
class MessageField:
    name: str
    prompt: Prompt
    max_digits: int


@dataclass(frozen=True, slots=True)
class MessageIntake:
    id: str
    name: str
    mailbox: str  # box@context
    to: tuple[str, ...]
    times: tuple[int, ...]  # seconds after local midnight, sorted
    fields: tuple[MessageField, ...]


@dataclass(frozen=True, slots=True)
class Promises:
    due_hours: int = 24
    remind_before_hours: int = 2
    callback_attempts: int = 3
    callback_minutes_apart: int = 10
    callback_ring_timeout: int = 30


@dataclass(frozen=True, slots=True)
class Center:
    name: str
    tz: ZoneInfo
    language: str
    country_code: str
    prompts_dir: str
    fallback_queue: str | None
    targets: Targets
    tenants: Mapping[str, Tenant]
    queues: Mapping[str, Queue]
    departments: Mapping[str, Department]
    numbers: Mapping[str, str | None]  # number key -> tenant id, or None for a 115 number
    emergency_numbers: Mapping[str, tuple[str, str]]  # number key -> (tenant id, emergency id): an emergency line's own
    entry_numbers: Mapping[str, tuple[str, str]]  # number key -> (tenant id, entry id): a further line's
    service_115: Service115 | None
    prompts: tuple[Prompt, ...]  # every prompt the config names, once each
    promises: Promises = Promises()
    messages: Mapping[str, MessageIntake] = field(default_factory=dict)  # message intakes by id

    def intake(self, mailbox: str | None) -> MessageIntake | None:
        """The message intake that records into ``mailbox``."""
        return next((m for m in self.messages.values() if m.mailbox == mailbox), None)

    later: tuple[tuple[date, Center], ...] = ()  # dated changes: the config in force from each day on (routing.dated)

    def on(self, day: date) -> Center:
        """The config in force on ``day`` (a date in the center's time zone)."""
        found = self
        for start, center in self.later:
            if start > day:
                break
            found = center
        return found

    def at(self, when: datetime) -> Center:
        """The config in force at ``when``: what the engine routes a call with."""
        return self.on(when.astimezone(self.tz).date()) if self.later else self

    @property
    def versions(self) -> tuple[Center, ...]:
        """The config of every period, first to last (one, when nothing is dated)."""
        return (self, *(center for _, center in self.later))
