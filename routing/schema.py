"""The routing YAML's format, as pydantic models.

These models only describe and check the *shape* of the files (types, allowed
keys, value ranges); references between sections and the meaning of the whole
are checked by routing.build, which compiles them into routing.model. The JSON
Schema in config/schema.json is generated from here (``lotse schema``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from routing.fields import (
    QUEUE_STRATEGIES,
    Dtmf,
    DueHours,
    Email,
    Hours,
    Id,
    Intervals,
    Percent,
    Seconds,
    State,
    check_clock,
    check_timezone,
)

DESTINATIONS = ("topic", "menu", "department", "queue", "voicemail", "callback", "hangup", "info", "tenant")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Prompt(Model):
    """Something played to the caller: a sound file and the text it says."""

    model_config = ConfigDict(json_schema_extra={"description": "a text, or {file, text}"})

    file: str | None = Field(None, description="sound file name without extension, relative to prompts_dir")
    text: str | None = Field(None, description="what the prompt says; synthesised when the file is missing")

    @model_validator(mode="before")
    @classmethod
    def _text_shorthand(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _file_or_text(self) -> Prompt:
        if not self.file and not self.text:
            raise ValueError("a prompt needs a 'file', a 'text' or both")
        return self


class Target(Model):
    """Where a call goes: exactly one destination, optionally after an announcement."""

    announcement: Prompt | None = None
    topic: Id | None = None
    menu: Id | None = None
    department: Id | None = None
    queue: Id | None = None
    voicemail: str | None = Field(None, description="mailbox, e.g. 100@lotse")
    callback: bool = False
    hangup: bool = False
    info: Id | None = Field(None, description="one of the tenant's infos: an announcement with repeat and back keys")
    tenant: Id | None = Field(None, description="only for service_115: route as a call for this tenant")

    @model_validator(mode="before")
    @classmethod
    def _word_shorthand(cls, value: Any) -> Any:
        if isinstance(value, str) and value in ("hangup", "callback"):
            return {value: True}
        return value

    @model_validator(mode="after")
    def _one_destination(self) -> Target:
        given = self.destinations()
        if len(given) != 1:
            listed = ", ".join(given) if given else "none"
            raise ValueError(f"give exactly one of {', '.join(DESTINATIONS)} (given: {listed})")
        return self

    def destinations(self) -> list[str]:
        return [name for name in DESTINATIONS if getattr(self, name) not in (None, False)]

    @property
    def kind(self) -> str:
        return self.destinations()[0]


class ServiceLevel(Model):
    percent: Percent = Field(description="target share of answered calls, e.g. 80")
    within: Seconds = Field(description="answered within this many seconds of joining the queue, e.g. 30")


class Targets(Model):
    service_level: ServiceLevel | None = None
    reachability: Percent | None = Field(None, description="answered / offered during opening hours, percent")
    asa: Seconds | None = Field(None, description="average speed of answer target, seconds")
    first_contact_resolution: Percent | None = Field(
        None, description="calls the agents mark solved / answered calls with a disposition, percent (115: 65)"
    )


class Closure(Model):
    date: dt.date | None = None
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    hours: Intervals | None = Field(None, description="closed only during these hours; whole day when omitted")
    reason: str

    @model_validator(mode="after")
    def _one_day_or_range(self) -> Closure:
        if self.date is not None and (self.from_ or self.to):
            raise ValueError("give either 'date' or 'from' and 'to', not both")
        if self.date is None and (self.from_ is None or self.to is None):
            raise ValueError("give 'date' for one day, or 'from' and 'to' for a range")
        if self.from_ and self.to:
            if self.to < self.from_:
                raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_})")
            if (self.to - self.from_).days > 366:
                raise ValueError("a closure longer than a year is not a closure; change the hours instead")
        return self


class OpenDay(Model):
    date: dt.date
    hours: Intervals = Field(min_length=1)
    reason: str


class ClosedBehaviour(Model):
    announcement: Prompt | None = None
    holiday_announcement: Prompt | None = Field(None, description="played instead on public holidays")
    then: Target = Field(default_factory=lambda: Target(hangup=True))


class Dated(Model):
    """Something that holds only from one day or until one day: a partner that joins, a pilot that ends."""

    valid_from: dt.date | None = Field(None, description="the first day it holds (the center's time zone); before it, it does not exist")
    valid_until: dt.date | None = Field(None, description="the last day it holds; from the next day on, it does not exist")

    @model_validator(mode="after")
    def _in_order(self) -> Dated:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError(f"valid_until {self.valid_until} is before valid_from {self.valid_from}")
        return self


class Menu(Dated):
    prompt: Prompt
    options: dict[Dtmf, Target] = Field(min_length=1)
    timeout: Annotated[int, Field(ge=1, le=60)] = 5
    retries: Annotated[int, Field(ge=0, le=9)] = 2
    invalid: Prompt | None = Field(None, description="played after a key that is not an option")
    no_input: Prompt | None = Field(None, description="played when no key was pressed in time")
    default: Target = Field(description="where the call goes after the last retry")


class Info(Model):
    """An information announcement a caller chooses in a menu: it may be repeated, the back key returns to the menu."""

    name: str = Field(description="what the caller learns, e.g. 'Abfuhrtermine'; the trace and the figures name it")
    announcement: Prompt
    repeat_key: Dtmf = "1"
    back_key: Dtmf = Field("0", description="back to the menu the caller chose the info in")
    plays: Annotated[int, Field(ge=1, le=5)] = Field(3, description="how often it plays at the most")
    timeout: Annotated[int, Field(ge=1, le=30)] = Field(5, description="seconds to wait for a key after the announcement")

    @model_validator(mode="after")
    def _keys_differ(self) -> Info:
        if self.repeat_key == self.back_key:
            raise ValueError(f"repeat_key and back_key are both '{self.back_key}'; give them different keys")
        return self


class Topic(Dated):
    name: str = Field(description="spoken to the agent in the whisper and shown as caller name")
    queue: Id
    priority: Annotated[int, Field(ge=0, le=100)] = 0
    due_hours: DueHours = None


class Emergency(Model):
    name: str
    announcement: Prompt
    queue: Id | None = None
    mode: Literal["replace", "announce"] = "replace"
    ignore_hours: bool = True
    numbers: list[str] = Field(default_factory=list, description="the line's own numbers, answered while it is switched on")
    when_off: Target | None = Field(None, description="a call to its numbers while it is off; default: as the tenant's own number")
    catch_115: bool = Field(False, description="while on, also 115 callers that no tenant takes (unknown or hidden number)")


class TenantEntry(Dated):
    """A line of a tenant with its own numbers, start and hours, e.g. a school sick-note hotline from 07:00."""

    name: str = Field(description="what the line is, e.g. 'Krankmeldung Schulen'; figures are split by the entry's id")
    numbers: list[str] = Field(min_length=1)
    hours: Hours | None = Field(None, description="default: the tenant's hours; the tenant's closures apply either way")
    greeting: Prompt | None = Field(None, description="default: the tenant's greeting")
    closed: ClosedBehaviour | None = Field(None, description="default: the tenant's")
    start: Target


class Tenant(Dated):
    name: str = Field(description="spoken in the greeting and the agent's whisper")
    numbers: list[str] = Field(default_factory=list)
    entries: dict[Id, TenantEntry] = Field(default_factory=dict, description="further lines with their own numbers, start and hours")
    due_hours: DueHours = None
    state: State | None = None
    holiday_categories: list[str] | None = None
    hours: Hours | None = None
    closures: list[Closure] = Field(default_factory=list)
    open_days: list[OpenDay] = Field(default_factory=list)
    targets: Targets | None = None
    greeting: Prompt | None = None
    closed: ClosedBehaviour | None = None
    start: Target
    menus: dict[Id, Menu] = Field(default_factory=dict)
    topics: dict[Id, Topic] = Field(default_factory=dict)
    emergencies: dict[Id, Emergency] = Field(default_factory=dict)
    infos: dict[Id, Info] = Field(default_factory=dict, description="information announcements the menus lead to ({info: id})")


class QueueCallback(Model):
    """A waiting caller may press a key to hang up and be called back, keeping their place in the line."""

    key: Dtmf = "5"
    offer_after: Annotated[int, Field(ge=5, le=3600)] = Field(60, description="seconds of waiting before the offer is first played")
    offer: Prompt = Field(
        default_factory=lambda: Prompt(
            text="Wenn wir Sie zurückrufen sollen, drücken Sie die 5. Sie behalten Ihren Platz in der Warteschlange."
        ),
        description="played every offer_after seconds while the caller waits",
    )


class Queue(Model):
    name: str | None = None
    strategy: Literal[QUEUE_STRATEGIES] = "rrmemory"  # type: ignore[valid-type]
    members: list[Id] = Field(default_factory=list, description="agent groups or skills")
    max_wait: Seconds | None = None
    max_callers: Annotated[int, Field(ge=1)] | None = None
    overflow: Target | None = None
    ring_timeout: Annotated[int, Field(ge=1, le=600)] = 15
    wrapup: Annotated[int, Field(ge=0, le=3600)] = 10
    announce_position: bool = True
    announce_holdtime: bool = False
    announce_frequency: Annotated[int, Field(ge=0, le=3600)] = 60
    callback: QueueCallback | None = Field(None, description="offer waiting callers a callback that keeps their place")
    autopause: Literal["no", "yes", "all"] = Field(
        "no", description="pause an agent whose phone rang unanswered: yes (in this queue), all (in every queue)"
    )


class Department(Model):
    name: str
    number: str
    hours: Hours | None = None
    state: State | None = None
    ring_timeout: Annotated[int, Field(ge=5, le=300)] = 25
    announcement: Prompt | None = None
    closed: Target = Field(default_factory=lambda: Target(callback=True))
    unanswered: Target = Field(default_factory=lambda: Target(callback=True))
    email: Email | None = Field(None, description="where the department's tickets are announced and reminded of")
    due_hours: DueHours = None


class MessageField(Model):
    name: str = Field(description="what the caller keys in, e.g. Schulnummer; shown in the delivery")
    prompt: Prompt = Field(description="asks for it, e.g. 'Bitte geben Sie die Schulnummer ein und drücken Sie die Raute-Taste.'")
    max_digits: Annotated[int, Field(ge=1, le=20)] = 10


class MessageIntake(Model):
    """Messages left on a voicemail box, delivered to recipients in batches at set times (e.g. sick notes to schools)."""

    name: str
    mailbox: str = Field(description="the voicemail box the config's {voicemail: ...} targets record into, e.g. schulen@lotse")
    to: list[Email] = Field(min_length=1, description="recipients of each batch")
    times: list[Annotated[str, AfterValidator(check_clock)]] = Field(min_length=1, description="local times of the batches, e.g. 08:30")
    fields: list[MessageField] = Field(default_factory=list, description="keyed in by the caller before the message")


class Promises(Model):
    """How lotse keeps its promises: callbacks and tickets (Rückmeldung)."""

    due_hours: Annotated[int, Field(ge=1, le=2000)] = Field(24, description="a ticket's Rückmeldung is due after this many service hours")
    remind_before_hours: Annotated[int, Field(ge=0, le=200)] = Field(
        2, description="the department is reminded this many service hours before"
    )
    callback_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    callback_minutes_apart: Annotated[int, Field(ge=1, le=1440)] = 10
    callback_ring_timeout: Annotated[int, Field(ge=5, le=120)] = 30


class Center(Model):
    name: str
    timezone: Annotated[str, AfterValidator(check_timezone)] = "Europe/Berlin"
    language: str = "de"
    state: State
    holiday_categories: list[str] = Field(default_factory=lambda: ["public"])
    country_code: Annotated[str, Field(pattern=r"^[1-9]\d{0,2}$")] = "49"
    prompts_dir: str = "prompts"
    hours: Hours | None = None
    closures: list[Closure] = Field(default_factory=list)
    targets: Targets = Field(default_factory=Targets)
    closed: ClosedBehaviour = Field(default_factory=ClosedBehaviour)
    fallback_queue: Id | None = Field(None, description="where the dialplan sends calls when lotse cannot answer")
    promises: Promises = Field(default_factory=Promises)
    messages: dict[Id, MessageIntake] = Field(default_factory=dict, description="message intakes with batch delivery")


class PrefixClaim(Dated):
    """The tenant(s) a 115 caller prefix belongs to; several: the caller chooses (e.g. a city and its county)."""

    model_config = ConfigDict(json_schema_extra={"description": "a tenant id, tenant ids, or {tenants, prompt, default, timeout}"})

    tenants: list[Id] = Field(min_length=1, max_length=9, description="in the order of the keys 1, 2, ...")
    prompt: Prompt | None = Field(None, description="default: 'Für <name> drücken Sie die 1. ...' from the tenants' names")
    default: Id | None = Field(None, description="the tenant when the caller presses nothing (default: the first)")
    timeout: Annotated[int, Field(ge=1, le=60)] = 5

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"tenants": [value]}
        return {"tenants": value} if isinstance(value, list) else value


class Service115(Model):
    numbers: list[str] = Field(default_factory=lambda: ["115"])
    greeting: Prompt | None = None
    hours: Hours = Field(default_factory=lambda: {"mon-fri": ["08:00-18:00"]})
    closures: list[Closure] = Field(default_factory=list)
    targets: Targets = Field(default_factory=lambda: Targets(service_level=ServiceLevel(percent=75, within=30)))
    prefixes: dict[str, PrefixClaim] = Field(
        default_factory=dict, description="caller area code -> tenant id, or the tenants that share it (the caller chooses)"
    )
    unknown_caller: Target
    hidden_caller: Target | None = Field(None, description="defaults to unknown_caller")
    closed: ClosedBehaviour | None = None
    due_hours: Annotated[int, Field(ge=1, le=2000)] = Field(24, description="115's promise: a Rückmeldung within 24 service hours")


class Config(Model):
    center: Center
    service_115: Service115 | None = None
    tenants: dict[Id, Tenant] = Field(min_length=1)
    topics: dict[Id, Topic] = Field(default_factory=dict)
    queues: dict[Id, Queue] = Field(min_length=1)
    departments: dict[Id, Department] = Field(default_factory=dict)


def json_schema() -> dict[str, Any]:
    """JSON Schema of one config file; every file of a folder is a part, so nothing is required at the top."""
    schema = Config.model_json_schema(by_alias=True)
    schema.pop("required", None)
    schema["title"] = "lotse routing config"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    defs = schema["$defs"]
    defs["Prompt"] = {"anyOf": [{"type": "string", "description": "the prompt's text"}, defs["Prompt"]]}
    defs["Target"] = {"anyOf": [{"enum": ["hangup", "callback"]}, defs["Target"]]}
    defs["PrefixClaim"] = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, defs["PrefixClaim"]]}
    return schema
