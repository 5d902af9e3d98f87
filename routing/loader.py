"""``load(path)``: read, validate, cross-check and compile a routing config."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path as FsPath
from zoneinfo import ZoneInfo

from routing import dated, model, schema
from routing.build import Builder, targets
from routing.checks import (
    check_overflow_cycles,
    check_prompts,
    check_silent_caller_ends,
    check_tenants_reachable,
    check_topics_reachable,
)
from routing.intakes import check_batch_times, check_intake_use, compile_intakes
from routing.numbers import NumberError, normalise
from routing.problems import ConfigError, Path, Problem, Severity
from routing.schedule import Schedule
from routing.service115 import service_115
from routing.tenants import compile_tenant
from routing.validate import Parts, validate_parts
from routing.yamlsource import Source, read_config

Checked = tuple[tuple[dated.Period, tuple[Problem, ...]], ...]  # each period of dated changes and its own problems


@dataclass(frozen=True)
class LoadResult:
    center: model.Center | None  # None when there is any error
    problems: tuple[Problem, ...]
    files: tuple[str, ...]
    periods: Checked = ()  # with dated changes: each period's own problems
    stops: tuple[tuple[date, Problem], ...] = ()  # warnings of numbers that stop being routed on a date
    shared: tuple[Problem, ...] = ()  # with dated changes: the problems of reading and shape, common to all periods

    def problems_on(self, day: date) -> tuple[Problem, ...]:
        """Problems of the config in force on ``day`` (as that period's check found them), and numbers that stop later."""
        if len(self.periods) < 2:
            return self.problems
        found = next(problems for span, problems in self.periods if dated.contains(span, day))
        return _sorted([*self.shared, *found, *(p for stop, p in self.stops if stop > day)])

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity is Severity.WARNING)


def load(path: FsPath | str, env: Mapping[str, str] | None = None) -> LoadResult:
    """Load the config at ``path`` (a file or a folder); never raises for bad config."""
    path = FsPath(path)
    source = read_config(path, env)
    if any(p.severity is Severity.ERROR for p in source.problems):
        return LoadResult(None, _sorted(source.problems), tuple(source.files))  # unreadable YAML: nothing to check
    parts = validate_parts(source)
    base_dir = path if path.is_dir() else path.parent
    spans = dated.periods(parts)
    if len(spans) == 1:  # nothing dated: one config
        center = _compile(Builder(source, parts, base_dir))
        found: Checked = ((spans[0], ()),)
        stops: tuple[tuple[date, Problem], ...] = ()
        shared: tuple[Problem, ...] = ()
    else:
        center, found, stops, shared = _compile_periods(source, parts, base_dir, spans)
    problems = _sorted(source.problems)
    ok = center is not None and not any(p.severity is Severity.ERROR for p in problems)
    return LoadResult(center if ok else None, problems, tuple(source.files), found, stops, shared)


def _compile_periods(
    source: Source, parts: Parts, base_dir: FsPath, spans: tuple[dated.Period, ...]
) -> tuple[
    model.Center | None, tuple[tuple[dated.Period, tuple[Problem, ...]], ...], tuple[tuple[date, Problem], ...], tuple[Problem, ...]
]:
    """One config per period of dated changes, each checked on its own; the first holds the others in ``later``.

    Also warns of each number that stops being routed when a period begins. Returns the config, each
    period's problems, those warnings by day, and the problems common to all periods (reading, shape, prompt files).
    """
    before, versions, found = source.problems, [], []
    builders = []
    for span in spans:
        source.problems = []
        builder = Builder(source, dated.on(parts, dated.a_day_in(span)), base_dir, every=parts)
        versions.append(_compile(builder, files=False))
        builders.append(builder)
        found.append((span, tuple(source.problems)))
    source.problems = []
    every = Builder(source, parts, base_dir)  # the prompts and intakes of all periods, checked once
    for builder in builders:
        for file, prompt in builder.prompts.items():
            every.prompts.setdefault(file, prompt)
        for mailbox, paths in builder.voicemails.items():
            every.voicemails.setdefault(mailbox, []).extend(paths)
    check_intake_use(every, parts.center)
    check_prompts(every, parts.center)
    before = [*before, *source.problems]
    stops: list[tuple[date, Problem]] = []
    for (span, _), earlier, (center, later) in zip(found[1:], builders, itertools.pairwise(versions), strict=False):
        if center is None or later is None or span[0] is None:
            continue
        for number in sorted(set(center.numbers) - set(later.numbers)):
            source.problems = []
            where = earlier.numbers.get(number, ())
            source.warning(
                where,
                f"from {span[0]} on, {_written(source, where) or number} is no longer routed (nothing in force then holds it)",
                "if that is meant, nothing to do; else extend the valid_until that ends it",
            )
            stops.append((span[0], source.problems[0]))
    source.problems = [*before, *dated.merged(found), *(p for _, p in stops)]
    if any(v is None for v in versions):
        return None, tuple(found), tuple(stops), tuple(before)
    first = versions[0]
    assert first is not None
    later_versions = tuple((span[0], v) for (span, _), v in zip(found[1:], versions[1:], strict=True) if span[0] and v)
    return replace(first, later=later_versions), tuple(found), tuple(stops), tuple(before)


def load_or_raise(path: FsPath | str, env: Mapping[str, str] | None = None) -> model.Center:
    result = load(path, env)
    if result.center is None:
        raise ConfigError(result.problems)
    return result.center


def _sorted(problems: list[Problem]) -> tuple[Problem, ...]:
    """Each problem once (a center-wide setting is checked for every tenant that uses it), in file order."""
    unique = dict.fromkeys(problems)
    return tuple(sorted(unique, key=lambda p: (p.location is None, p.location or "", p.message)))


def _written(source: Source, path: Path) -> str | None:
    """The text written in the YAML at ``path``."""
    value: object = source.data
    for part in path:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        else:
            return None
    return value if isinstance(value, str) else None


def _compile(b: Builder, files: bool = True) -> model.Center | None:
    """The config of ``b``'s parts; ``files``: check that the prompt files exist (with dated changes: once, over all periods)."""
    parts = b.parts
    center_spec = parts.center
    center_targets = targets(center_spec.targets if center_spec else None, model.Targets(None, None, None, None))
    state = center_spec.state if center_spec else "NW"
    queues = {qid: _queue(b, qid, q) for qid, q in parts.queues.items()}
    departments = {did: _department(b, did, d, state) for did, d in parts.departments.items()}
    tenants = {tid: compile_tenant(b, tid, t, center_targets) for tid, t in parts.tenants.items()}
    for tid, topic in parts.topics.items():
        b.target(schema.Target(queue=topic.queue), ("topics", tid), "overflow", None)
    service = service_115(b, parts.service_115, tenants) if parts.service_115 else None
    if center_spec and center_spec.fallback_queue:
        b.check_ref(center_spec.fallback_queue, parts.queues, parts.broken["queues"], ("center", "fallback_queue"), "queue", "queues")
    elif center_spec:
        b.source.warning(
            ("center",), "no fallback_queue is set", "set center.fallback_queue: the queue the dialplan uses when lotse cannot answer"
        )
    check_topics_reachable(b)
    check_overflow_cycles(b)
    check_silent_caller_ends(b)
    check_tenants_reachable(b, service)
    messages = compile_intakes(b, center_spec.messages) if center_spec else {}
    check_batch_times(b, messages, tenants, service)
    if files:
        check_intake_use(b, center_spec)
    prompts = check_prompts(b, center_spec) if files else tuple(prompt for prompt, _ in b.prompts.values())
    if center_spec is None or len(tenants) != len(parts.tenants) or any(parts.broken.values()):
        return None
    numbers, entry_numbers, emergency_numbers = _numbers(tenants, service)
    for did, department in departments.items():  # a forward to a number lotse answers comes back to lotse
        if department.number in numbers:
            answered_by = f"tenant '{numbers[department.number]}'" if numbers[department.number] else "115"
            b.source.error(
                ("departments", did, "number"),
                f"{department.number} is answered by lotse itself ({answered_by}): the forward would loop back",
                "give the department's own extension",
            )
    return model.Center(
        name=center_spec.name,
        tz=ZoneInfo(center_spec.timezone),
        language=center_spec.language,
        country_code=center_spec.country_code,
        prompts_dir=str(b.base_dir / center_spec.prompts_dir),
        fallback_queue=center_spec.fallback_queue,
        targets=center_targets,
        tenants=tenants,
        queues=queues,
        departments=departments,
        numbers=numbers,
        emergency_numbers=emergency_numbers,
        entry_numbers=entry_numbers,
        service_115=service,
        prompts=prompts,
        promises=model.Promises(**center_spec.promises.model_dump()),
        messages=messages,
    )


def _numbers(
    tenants: Mapping[str, model.Tenant], service: model.Service115 | None
) -> tuple[dict[str, str | None], dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    """Number -> tenant (None: 115); number -> (tenant, entry); number -> (tenant, emergency line)."""
    numbers: dict[str, str | None] = {}
    entry_numbers: dict[str, tuple[str, str]] = {}
    emergency_numbers: dict[str, tuple[str, str]] = {}
    for tenant in tenants.values():
        numbers.update((n, tenant.id) for n in tenant.numbers)
        for entry in tenant.entries.values():
            numbers.update((n, tenant.id) for n in entry.numbers)
            entry_numbers.update((n, (tenant.id, entry.id)) for n in entry.numbers)
        for emergency in tenant.emergencies.values():
            numbers.update((n, tenant.id) for n in emergency.numbers)
            emergency_numbers.update((n, (tenant.id, emergency.id)) for n in emergency.numbers)
    if service:
        numbers.update((n, None) for n in service.numbers)
    return numbers, entry_numbers, emergency_numbers


def _queue(b: Builder, qid: str, spec: schema.Queue) -> model.Queue:
    path = ("queues", qid)
    overflow = b.target(spec.overflow, (*path, "overflow"), "overflow", None) if spec.overflow else None
    if overflow is None and (spec.max_wait or spec.max_callers):
        b.source.error(
            path,
            "max_wait or max_callers is set but there is no 'overflow'",
            "add e.g. 'overflow: callback' so that callers are not dropped",
        )
    return model.Queue(
        id=qid,
        name=spec.name or qid,
        strategy=spec.strategy,
        members=tuple(spec.members),
        max_wait=spec.max_wait,
        max_callers=spec.max_callers,
        overflow=overflow,
        ring_timeout=spec.ring_timeout,
        wrapup=spec.wrapup,
        announce_position=spec.announce_position,
        announce_holdtime=spec.announce_holdtime,
        announce_frequency=spec.announce_frequency,
        callback=_queue_callback(b, path, spec.callback) if spec.callback else None,
        autopause=spec.autopause,
    )


def _queue_callback(b: Builder, path: Path, spec: schema.QueueCallback) -> model.QueueCallback:
    offer = b.prompt(spec.offer, (*path, "callback", "offer"))
    assert offer is not None
    if offer.text and f" {spec.key}" not in offer.text:
        b.source.warning((*path, "callback", "offer"), f"the offer does not name the key {spec.key}", f"say 'drücken Sie die {spec.key}'")
    return model.QueueCallback(spec.key, spec.offer_after, offer)


def _department(b: Builder, did: str, spec: schema.Department, center_state: str) -> model.Department:
    path = ("departments", did)
    try:
        number = normalise(spec.number, b.country_code)
    except NumberError as exc:
        b.source.error((*path, "number"), str(exc), "write it like 0281 203-2300")
        number = spec.number
    schedule = None
    if spec.hours is not None:
        schedule = Schedule.build(b.weekly(spec.hours, (*path, "hours")), spec.state or center_state)
    if spec.hours is not None and spec.closed.hangup and spec.closed.announcement is None:
        b.source.error(
            (*path, "closed"),
            f"while {spec.name} is closed, callers are hung up without a word",
            "add an 'announcement:' that says when it is open, e.g. closed: "
            f'{{announcement: "{spec.name} ist zurzeit nicht erreichbar. ...", hangup: true}}, or use callback',
        )
    if spec.unanswered.hangup and spec.unanswered.announcement is None:
        b.source.error(
            (*path, "unanswered"),
            f"when {spec.name} does not answer, callers are hung up without a word",
            """add an 'announcement:', e.g. unanswered: {announcement: "...", hangup: true}, or use callback""",
        )
    return model.Department(
        id=did,
        name=spec.name,
        number=number,
        schedule=schedule,
        ring_timeout=spec.ring_timeout,
        announcement=b.prompt(spec.announcement, (*path, "announcement")),
        closed=b.target(spec.closed, (*path, "closed"), "department", None),
        unanswered=b.target(spec.unanswered, (*path, "unanswered"), "department", None),
        email=spec.email,
        due_hours=spec.due_hours,
    )
