"""Compiling a tenant: its numbers, hours, menus, topics, emergencies and further entries (lines)."""

from __future__ import annotations

from routing import model, schema
from routing.build import Builder, targets
from routing.schedule import Closure, Schedule

# entry ids that lotse's figures already use for the other ways in (routing.model.Entry)
RESERVED_ENTRIES = {"own": "tenant's own numbers", "115": "115 calls", "emergency": "calls to an emergency line"}


def compile_tenant(b: Builder, tid: str, spec: schema.Tenant, center_targets: model.Targets) -> model.Tenant:
    center = b.parts.center
    path = ("tenants", tid)
    scope = (tid, spec)
    numbers = tuple(k for i, n in enumerate(spec.numbers) if (k := b.number(n, (*path, "numbers", i))))
    for topic_id, topic in spec.topics.items():
        if topic_id in b.parts.topics:
            b.source.error((*path, "topics", topic_id), f"topic '{topic_id}' is also defined center-wide", "rename one of them", key=True)
        b.target(schema.Target(queue=topic.queue), (*path, "topics", topic_id), "overflow", None)
    hours = spec.hours if spec.hours is not None else (center.hours if center else None)
    weekly = b.weekly(hours, (*path, "hours") if spec.hours is not None else ("center", "hours"))
    state = spec.state or (center.state if center else "NW")
    categories = (
        b.categories(spec.holiday_categories, (*path, "holiday_categories"))
        if spec.holiday_categories
        else b.categories(center.holiday_categories if center else None, ("center", "holiday_categories"))
    )
    closures = b.closures(center.closures if center else [], ("center", "closures")) + b.closures(spec.closures, (*path, "closures"))
    schedule = Schedule.build(weekly, state, categories, closures, b.open_days(spec.open_days, (*path, "open_days")))
    if not any(weekly) and not spec.open_days and (spec.hours is not None or center is not None):  # broken center: unknown
        b.source.warning(
            path, f"tenant '{tid}' has no open hour", "give it 'hours:' or set center.hours; its own numbers will always be closed"
        )
    menus = {mid: _menu(b, scope, mid, m) for mid, m in spec.menus.items()}
    infos = {iid: _info(b, (*path, "infos", iid), info) for iid, info in spec.infos.items()}
    emergencies = {eid: _emergency(b, (*path, "emergencies", eid), e, scope) for eid, e in spec.emergencies.items()}
    topics = {**{k: _topic(k, t) for k, t in b.parts.topics.items()}, **{k: _topic(k, t) for k, t in spec.topics.items()}}
    closed_spec = spec.closed or (center.closed if center else schema.ClosedBehaviour())
    closed = b.closed(closed_spec, (*path, "closed") if spec.closed else ("center", "closed"), scope)
    calendar = (schedule, state, categories, closures)
    entries = {eid: _entry(b, eid, line, spec, scope, calendar, closed) for eid, line in spec.entries.items()}
    return model.Tenant(
        id=tid,
        name=spec.name,
        numbers=numbers,
        state=state,
        schedule=schedule,
        targets=targets(spec.targets, center_targets) if spec.targets else center_targets,
        greeting=b.prompt(spec.greeting, (*path, "greeting")),
        closed=closed,
        start=b.target(spec.start, (*path, "start"), "menu", scope),
        menus=menus,
        topics=topics,
        emergencies=emergencies,
        entries=entries,
        due_hours=spec.due_hours,
        infos=infos,
    )


def _emergency(b: Builder, epath: tuple[str, ...], e: schema.Emergency, scope: tuple[str, schema.Tenant]) -> model.Emergency:
    eid = epath[-1]
    if e.queue:
        b.target(schema.Target(queue=e.queue), epath, "overflow", None)
    elif e.numbers or e.catch_115:
        why = "has its own numbers" if e.numbers else "catches 115 calls"
        b.source.error(epath, f"an emergency that {why} needs a 'queue'", "add 'queue:', where its callers wait")
    elif e.mode == "replace":
        b.source.error(epath, "an emergency in mode 'replace' needs a 'queue'", "add 'queue:' or use mode: announce")
    own = tuple(k for i, n in enumerate(e.numbers) if (k := b.number(n, (*epath, "numbers", i))))
    when_off = b.target(e.when_off, (*epath, "when_off"), "menu", scope) if e.when_off else None
    announcement = b.prompt(e.announcement, (*epath, "announcement"))
    mode = e.mode if e.mode != "replace" or "mode" in e.model_fields_set or not own else "line"  # a line: its numbers only
    return model.Emergency(eid, e.name, announcement, e.queue, mode, e.ignore_hours, own, when_off, e.catch_115)  # type: ignore[arg-type]


def _entry(
    b: Builder,
    eid: str,
    line: schema.TenantEntry,
    spec: schema.Tenant,
    scope: tuple[str, schema.Tenant],
    calendar: tuple[Schedule, str, tuple[str, ...], tuple[Closure, ...]],
    closed: model.ClosedBehaviour,
) -> model.TenantEntry:
    """A tenant's further line; ``calendar``: the tenant's schedule, state, holiday categories and closures."""
    schedule, state, categories, closures = calendar
    path = ("tenants", scope[0])
    epath = (*path, "entries", eid)
    if eid in RESERVED_ENTRIES:
        b.source.error(
            epath, f"'{eid}' is what lotse calls the {RESERVED_ENTRIES[eid]} in its figures", "give the entry another id", key=True
        )
    line_schedule = schedule
    if line.hours is not None:
        line_schedule = Schedule.build(b.weekly(line.hours, (*epath, "hours")), state, categories, closures)
    greeting = b.prompt(line.greeting, (*epath, "greeting")) if line.greeting else b.prompt(spec.greeting, (*path, "greeting"))
    return model.TenantEntry(
        id=eid,
        name=line.name,
        numbers=tuple(k for i, n in enumerate(line.numbers) if (k := b.number(n, (*epath, "numbers", i)))),
        schedule=line_schedule,
        greeting=greeting,
        closed=b.closed(line.closed, (*epath, "closed"), scope) if line.closed else closed,
        start=b.target(line.start, (*epath, "start"), "menu", scope),
    )


def _info(b: Builder, ipath: tuple[str, ...], spec: schema.Info) -> model.Info:
    """An information announcement, with the prompts that name its keys (synthesised unless recorded)."""
    repeat, back = spec.repeat_key, spec.back_key
    repeat_text = f"Zum Wiederholen drücken Sie die {_spoken(repeat)}."
    back_text = f"{repeat_text} Zurück zum Menü mit der {_spoken(back)}."
    keys = schema.Prompt(file=f"info/keys-{_file_key(repeat)}-back-{_file_key(back)}", text=back_text)
    repeat_only = schema.Prompt(file=f"info/keys-{_file_key(repeat)}", text=repeat_text)
    announcement, keys_prompt, repeat_prompt = (
        b.prompt(spec.announcement, (*ipath, "announcement")),
        b.prompt(keys, (*ipath, "back_key")),
        b.prompt(repeat_only, (*ipath, "repeat_key")),
    )
    assert announcement is not None and keys_prompt is not None and repeat_prompt is not None
    return model.Info(ipath[-1], spec.name, announcement, keys_prompt, repeat_prompt, repeat, back, spec.plays, spec.timeout)


def _spoken(key: str) -> str:
    return {"*": "Stern-Taste", "#": "Raute-Taste"}.get(key, key)


def _file_key(key: str) -> str:
    return {"*": "star", "#": "hash"}.get(key, key)


def _topic(tid: str, spec: schema.Topic) -> model.Topic:
    return model.Topic(tid, spec.name, spec.queue, spec.priority, spec.due_hours)


def _menu(b: Builder, scope: tuple[str, schema.Tenant], mid: str, spec: schema.Menu) -> model.Menu:
    path = ("tenants", scope[0], "menus", mid)
    prompt = b.prompt(spec.prompt, (*path, "prompt"))
    assert prompt is not None
    return model.Menu(
        id=mid,
        prompt=prompt,
        options={key: b.target(t, (*path, "options", key), "menu", scope) for key, t in spec.options.items()},
        timeout=spec.timeout,
        retries=spec.retries,
        invalid=b.prompt(spec.invalid, (*path, "invalid")),
        no_input=b.prompt(spec.no_input, (*path, "no_input")),
        default=b.target(spec.default, (*path, "default"), "menu", scope),
    )
