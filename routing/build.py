"""Cross-checks and compilation: validated parts -> routing.model.Center.

Checks and compilation are one pass: each part is compiled where it is
checked, with every problem recorded against the place it was written. The
model is returned only when there is no error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path as FsPath
from typing import Any

from holidays.countries.germany import Germany

from routing import model, schema
from routing.model import Kind, Outcome, TargetKind, target_kind
from routing.numbers import NumberError, normalise
from routing.problems import Path, did_you_mean
from routing.schedule import WEEKDAYS, Closure, Interval, OpenDay, check_disjoint, parse_interval, parse_weekdays
from routing.validate import Parts
from routing.yamlsource import Source

_FINAL: frozenset[TargetKind] = frozenset(Outcome) - {Outcome.INFO}  # where an outcome ends a call's walk through the IVR
_IN_TENANT: frozenset[TargetKind] = _FINAL | {Kind.TOPIC, Kind.MENU, Outcome.INFO}  # an info is a tenant's
ALLOWED: Mapping[str, frozenset[TargetKind]] = {
    "menu": _IN_TENANT,
    "closed": _FINAL,
    "overflow": _FINAL,
    "department": _FINAL - {Outcome.DEPARTMENT},
    "115": (_FINAL | {Kind.TENANT}),
}
PROMPT_EXTENSIONS = (".wav", ".WAV", ".gsm", ".ulaw", ".alaw", ".sln", ".sln16", ".g722", ".g729", ".mp3")
HOLIDAY_CATEGORIES = tuple(Germany.supported_categories)


class Builder:
    def __init__(self, source: Source, parts: Parts, base_dir: FsPath, every: Parts | None = None) -> None:
        """``parts``: those in force in the period compiled; ``every``: those of all periods (dated changes)."""
        self.source = source
        self.parts = parts
        self.every = every or parts
        self.base_dir = base_dir
        self.prompts: dict[str, tuple[model.Prompt, Path]] = {}
        self.numbers: dict[str, Path] = {}
        self.voicemails: dict[str, list[Path]] = {}  # mailbox -> where a {voicemail: ...} target names it
        self.country_code = parts.center.country_code if parts.center else "49"

    # -- small pieces -------------------------------------------------------

    def prompt(self, value: schema.Prompt | None, path: Path) -> model.Prompt | None:
        if value is None:
            return None
        file = value.file or "/".join(str(p) for p in path)
        compiled = model.Prompt(file, value.text)
        self.prompts.setdefault(file, (compiled, path))
        return compiled

    def target(self, value: schema.Target, path: Path, context: str, tenant: tuple[str, schema.Tenant] | None) -> model.Target:
        kind = target_kind(value.kind)
        ref = getattr(value, kind.value)
        allowed = ALLOWED[context]
        if kind not in allowed:
            names = ", ".join(name for name in schema.DESTINATIONS if target_kind(name) in allowed)
            self.source.error((*path, kind.value), f"'{kind.value}' cannot be used here", f"use one of {names}", key=True)
        elif kind is Kind.TOPIC and tenant is not None:
            self._check_topic(ref, (*path, "topic"), tenant)
        elif kind is Kind.MENU and tenant is not None:
            self.check_ref(ref, tenant[1].menus, set(), (*path, "menu"), "menu", f"tenants.{tenant[0]}.menus")
        elif kind is Outcome.INFO and tenant is not None:
            self.check_ref(ref, tenant[1].infos, set(), (*path, "info"), "info", f"tenants.{tenant[0]}.infos")
        elif kind in (Outcome.DEPARTMENT, Outcome.QUEUE, Kind.TENANT):
            section = f"{kind.value}s"
            self.check_ref(ref, getattr(self.parts, section), self.parts.broken[section], (*path, kind.value), kind.value, section)
        elif kind is Outcome.VOICEMAIL:
            self.voicemails.setdefault(ref, []).append(path)
            if "@" not in ref:
                self.source.error((*path, "voicemail"), f"mailbox '{ref}' has no context", f"write it as {ref}@lotse")
        return model.Target(
            kind, None if kind in (Outcome.CALLBACK, Outcome.HANGUP) else ref, self.prompt(value.announcement, (*path, "announcement"))
        )

    def check_ref(self, ref: str, valid: Mapping[str, Any], broken: Iterable[str], path: Path, what: str, where: str) -> None:
        if ref in valid or ref in broken:
            return
        if what == "tenant" and (tenant := self.every.tenants.get(ref)) is not None:  # dated: not in force in this period
            prefix = path[:2] == ("service_115", "prefixes")  # a prefix can be dated, 115's other targets cannot
            hint = f"date the prefix as the tenant: {valid_keys(tenant)}" if prefix else "point it at a tenant in force then"
            self.source.error(path, f"tenant '{ref}' holds {holds(tenant)} ({dated_keys(tenant, ref)})", hint)
        else:
            self.source.error(path, f"unknown {what} '{ref}'", f"{did_you_mean(ref, valid)} ({where})")

    def _check_topic(self, ref: str, path: Path, tenant: tuple[str, schema.Tenant]) -> None:
        tenant_id, spec = tenant
        if ref not in spec.topics and ref not in self.parts.topics and ref not in self.parts.broken["topics"]:
            choices = [*spec.topics, *self.parts.topics]
            self.source.error(path, f"unknown topic '{ref}'", f"{did_you_mean(ref, choices)} (topics, tenants.{tenant_id}.topics)")

    def number(self, text: str, path: Path) -> str | None:
        try:
            key = normalise(text, self.country_code)
        except NumberError as exc:
            self.source.error(path, str(exc), "write it like 0281 203-0 or +49 281 203-0")
            return None
        first = self.numbers.get(key)
        if first is not None:
            where = self.source.locate(first)
            self.source.error(
                path,
                f"number {text} ({key}) is already used by {'.'.join(map(str, first[:2]))}",
                f"first at {where}; a number routes to one place only",
            )
            return None
        self.numbers[key] = path
        return key

    def weekly(self, hours: Mapping[str, list[str]] | None, path: Path) -> tuple[tuple[Interval, ...], ...]:
        days: list[list[Interval]] = [[] for _ in range(7)]
        seen: dict[int, str] = {}
        for key, texts in (hours or {}).items():
            intervals = self.intervals(texts, (*path, key))
            for day in parse_weekdays(key):
                if day in seen:
                    self.source.error(
                        (*path, key), f"{WEEKDAYS[day]} is covered by both '{seen[day]}' and '{key}'", "give each weekday once"
                    )
                    continue
                seen[day] = key
                days[day] = list(intervals)
        return tuple(tuple(sorted(d)) for d in days)

    def intervals(self, texts: list[str], path: Path) -> tuple[Interval, ...]:
        parsed = tuple(parse_interval(t) for t in texts)  # shapes are checked already
        overlap = check_disjoint(parsed)
        if overlap:
            self.source.error(path, overlap)
        return parsed

    def closures(self, items: Iterable[schema.Closure], path: Path) -> tuple[Closure, ...]:
        result = []
        for index, item in enumerate(items):
            first = item.date or item.from_
            last = item.date or item.to
            assert first is not None and last is not None
            hours = self.intervals(item.hours or [], (*path, index, "hours"))
            result.append(Closure(first, last, item.reason, hours))
        return tuple(result)

    def open_days(self, items: Iterable[schema.OpenDay], path: Path) -> tuple[OpenDay, ...]:
        seen: dict[Any, int] = {}
        result = []
        for index, item in enumerate(items):
            if item.date in seen:
                self.source.error((*path, index, "date"), f"{item.date} is listed twice", f"merge it with entry {seen[item.date]}")
            seen[item.date] = index
            result.append(OpenDay(item.date, self.intervals(item.hours, (*path, index, "hours")), item.reason))
        return tuple(result)

    def categories(self, values: list[str] | None, path: Path) -> tuple[str, ...]:
        for index, value in enumerate(values or []):
            if value not in HOLIDAY_CATEGORIES:
                self.source.error((*path, index), f"unknown holiday category '{value}'", did_you_mean(value, HOLIDAY_CATEGORIES))
        return tuple(values or ("public",))

    def closed(self, value: schema.ClosedBehaviour, path: Path, tenant: tuple[str, schema.Tenant] | None) -> model.ClosedBehaviour:
        return model.ClosedBehaviour(
            self.prompt(value.announcement, (*path, "announcement")),
            self.prompt(value.holiday_announcement, (*path, "holiday_announcement")),
            self.target(value.then, (*path, "then"), "closed", tenant),
        )


def holds(item: schema.Dated) -> str:
    """When a dated part holds: 'from 2027-02-01', 'until 2027-03-31', 'from 2027-02-01 to 2027-03-31'."""
    if item.valid_from and item.valid_until:
        return f"from {item.valid_from} to {item.valid_until}"
    return f"from {item.valid_from}" if item.valid_from else f"until {item.valid_until}"


def valid_keys(item: schema.Dated) -> str:
    """The keys that date something else as ``item``: 'valid_from: 2027-02-01'."""
    keys = [f"valid_from: {item.valid_from}" if item.valid_from else "", f"valid_until: {item.valid_until}" if item.valid_until else ""]
    return ", ".join(k for k in keys if k)


def dated_keys(item: schema.Dated, tenant: str) -> str:
    """Where a tenant's dates are written: 'tenants.b.valid_from'."""
    return ", ".join(f"tenants.{tenant}.{key}" for key in ("valid_from", "valid_until") if getattr(item, key))


def targets(value: schema.Targets | None, default: model.Targets | None = None) -> model.Targets:
    if value is None:
        assert default is not None
        return default
    level = value.service_level
    base = default or model.Targets(None, None, None, None)
    return model.Targets(
        level.percent if level else base.service_level_percent,
        level.within if level else base.service_level_within,
        value.reachability if value.reachability is not None else base.reachability,
        value.asa if value.asa is not None else base.asa,
        value.first_contact_resolution if value.first_contact_resolution is not None else base.first_contact_resolution,
    )
