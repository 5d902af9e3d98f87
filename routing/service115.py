"""Compiling service_115: its numbers, hours per tenant, caller prefixes and the choice menus of shared prefixes."""

from __future__ import annotations

from collections.abc import Mapping

from routing import model, schema
from routing.build import HOLIDAY_CATEGORIES, Builder, targets
from routing.model import Kind, Outcome
from routing.numbers import NumberError, PrefixTable, normalise_prefix
from routing.problems import Path
from routing.schedule import Schedule


def service_115(b: Builder, spec: schema.Service115, tenants: Mapping[str, model.Tenant]) -> model.Service115:
    path = ("service_115",)
    center = b.parts.center
    numbers = tuple(k for i, n in enumerate(spec.numbers) if (k := b.number(n, (*path, "numbers", i))))
    prefixes: dict[str, model.Target] = {}
    choices: dict[str, model.Menu] = {}
    written: dict[str, str] = {}
    for text, claim in spec.prefixes.items():
        ppath = (*path, "prefixes", text)
        try:
            key = normalise_prefix(text, b.country_code)
        except NumberError as exc:
            b.source.error(ppath, str(exc), key=True)
            continue
        if key in prefixes:
            b.source.error(ppath, f"prefix {text} is the same as {written[key]} ({key})", "keep one of them", key=True)
            continue
        written[key] = text
        if len(claim.tenants) == 1:
            b.check_ref(claim.tenants[0], b.parts.tenants, b.parts.broken["tenants"], ppath, "tenant", "tenants")
            prefixes[key] = model.Target(Kind.TENANT, claim.tenants[0])
        elif (menu := _choice(b, key, claim, ppath)) is not None:
            choices[menu.id] = menu
            prefixes[key] = model.Target(Kind.MENU, menu.id)
    weekly = b.weekly(spec.hours, (*path, "hours"))
    closures = b.closures(center.closures if center else [], ("center", "closures")) + b.closures(spec.closures, (*path, "closures"))
    state = center.state if center else "NW"
    # 115's hours, with the holidays (state and categories) of the tenant the caller is routed to
    schedules = {tid: Schedule.build(weekly, t.state, t.schedule.holiday_categories, closures) for tid, t in tenants.items()}
    categories = tuple(c for c in (center.holiday_categories if center else ["public"]) if c in HOLIDAY_CATEGORIES) or ("public",)
    unknown = b.target(spec.unknown_caller, (*path, "unknown_caller"), "115", None)
    if spec.closed:
        closed_unassigned = b.closed(spec.closed, (*path, "closed"), None)
    else:  # the center's closed behaviour, without a tenant's menus or topics: its announcements, then hang up
        fallback = center.closed if center else schema.ClosedBehaviour()
        closed_unassigned = model.ClosedBehaviour(
            b.prompt(fallback.announcement, ("center", "closed", "announcement")),
            b.prompt(fallback.holiday_announcement, ("center", "closed", "holiday_announcement")),
            model.Target(Outcome.HANGUP, None, None),
        )
    return model.Service115(
        numbers=numbers,
        greeting=b.prompt(spec.greeting, (*path, "greeting")),
        schedules=schedules,
        schedule=Schedule.build(weekly, state, categories, closures),
        closed_unassigned=closed_unassigned,
        targets=targets(spec.targets, None),
        prefixes=PrefixTable.build(prefixes),
        choices=choices,
        unknown_caller=unknown,
        hidden_caller=b.target(spec.hidden_caller, (*path, "hidden_caller"), "115", None) if spec.hidden_caller else unknown,
        closed=b.closed(spec.closed, (*path, "closed"), None) if spec.closed else None,
        due_hours=spec.due_hours,
    )


def _choice(b: Builder, key: str, spec: schema.PrefixClaim, path: Path) -> model.Menu | None:
    """The menu in which a 115 caller from a shared prefix chooses the administration."""
    tenants = b.parts.tenants
    for n, tid in enumerate(spec.tenants):
        b.check_ref(tid, tenants, b.parts.broken["tenants"], (*path, "tenants", n), "tenant", "tenants")
    for tid in {t for t in spec.tenants if spec.tenants.count(t) > 1}:
        b.source.error((*path, "tenants"), f"tenant '{tid}' is named twice", "name each tenant once")
    default = spec.default or spec.tenants[0]
    if spec.default and spec.default not in spec.tenants:
        b.source.error((*path, "default"), f"'{spec.default}' is not one of the tenants {', '.join(spec.tenants)}", "name one of them")
    if any(t not in tenants for t in (*spec.tenants, default)):
        return None
    digits = key.lstrip("+")
    text = " ".join(f"Für {tenants[t].name} drücken Sie die {n}." for n, t in enumerate(spec.tenants, 1))
    generated = schema.Prompt(file=f"service_115/choices/{digits}/prompt", text=text)  # a file per prefix, in key form
    prompt = b.prompt(spec.prompt or generated, (*path, "prompt"))
    invalid = b.prompt(schema.Prompt(file="service_115/choices/invalid", text="Diese Eingabe ist leider nicht möglich."), (*path, "prompt"))
    assert prompt is not None
    options = {str(n): model.Target(Kind.TENANT, t) for n, t in enumerate(spec.tenants, 1)}
    return model.Menu(f"115-{digits}", prompt, options, spec.timeout, 1, invalid, None, model.Target(Kind.TENANT, default))
