"""Message intakes: their mailboxes and batch times, checked against the lines that record into them.

A batch at 10:30 carries what was recorded since the batch before it (promises/intakes.py). A batch time
at which every line that records into the intake has been closed since the batch before never carries a
message: a mistyped time (18:00 for 08:00), an error. The hours of a line are known when the intake is
the `start` of a tenant or of one of its entries; a mailbox that is also reached otherwise (a menu, an
overflow, a closed behaviour) can take messages at any time and its batch times are not checked.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

from routing import model, schema
from routing.build import Builder
from routing.checks import tenants_via_115
from routing.problems import Path, dotted
from routing.schedule import DAY_SECONDS, WEEKDAYS, Interval, Schedule, clock, parse_clock

Line = tuple[str, Schedule]  # where a line is written (tenants.a.entries.schulen) and its hours


def compile_intakes(b: Builder, specs: Mapping[str, schema.MessageIntake]) -> dict[str, model.MessageIntake]:
    found: dict[str, model.MessageIntake] = {}
    for mid, spec in specs.items():
        path = ("center", "messages", mid)
        if not re.fullmatch(r"[0-9a-z_-]+@[0-9a-z_-]+", spec.mailbox):
            b.source.error((*path, "mailbox"), f"'{spec.mailbox}' is not a mailbox", "write it as box@context, e.g. schulen@lotse")
        if spec.mailbox in (m.mailbox for m in found.values()):
            b.source.error((*path, "mailbox"), f"{spec.mailbox} is already the mailbox of another intake", "one intake per mailbox")
        fields = tuple(
            model.MessageField(f.name, b.prompt(f.prompt, (*path, "fields", n, "prompt")) or model.Prompt("", None), f.max_digits)
            for n, f in enumerate(spec.fields)
        )
        times = _times(b, spec.times, (*path, "times"))
        found[mid] = model.MessageIntake(mid, spec.name, spec.mailbox, tuple(spec.to), times, fields)
    return found


def _times(b: Builder, texts: list[str], path: Path) -> tuple[int, ...]:
    """The batch times, each once, sorted; 24:00 (an end of a day, not a time of it) and a time given twice are errors."""
    seen: set[int] = set()
    for index, text in enumerate(texts):
        second = parse_clock(text)  # the shape is checked already
        if second == DAY_SECONDS:
            b.source.error((*path, index), "24:00 is not a batch time", "write 00:00 for midnight")
        elif second in seen:
            b.source.error((*path, index), f"{text} is listed twice", "a batch goes out once at its time; remove one or correct it")
        else:
            seen.add(second)
    return tuple(sorted(seen))


def check_batch_times(
    b: Builder, intakes: Mapping[str, model.MessageIntake], tenants: Mapping[str, model.Tenant], service: model.Service115 | None
) -> None:
    """A batch time at which every line recording into the intake was closed since the batch before is an error;
    a line that closes after the day's last batch is a warning."""
    for mid, intake in intakes.items():
        lines = _lines(b.voicemails.get(intake.mailbox, ()), tenants, service)
        weekly = [sorted(i for _, schedule in lines for i in schedule.weekly[day]) for day in range(7)]
        if not lines or not intake.times or not any(weekly):
            continue  # hours unknown (reached otherwise too), or never open: the tenant's "no open hour" says it
        _check_overnight(b, mid, intake.times, weekly)
        if len(intake.times) < 2:
            continue  # one batch a day carries the whole day
        for index, second in enumerate(intake.times):
            before = intake.times[index - 1]  # the first batch's is the last of the day before
            if any(_open_between(weekly, day, before, second) for day in range(7)):
                continue
            where = " and ".join(f"{name} ({_hours(schedule)})" for name, schedule in lines)
            b.source.error(
                ("center", "messages", mid, "times", _written_index(b, mid, second)),
                f"the batch at {clock(second)} never carries a message: {where} {'is' if len(lines) == 1 else 'are'} closed"
                f" from {clock(before)}, the batch before, to {clock(second)}",
                "move it into the line's hours or to just after it closes, or remove it",
            )


def _check_overnight(b: Builder, mid: str, times: tuple[int, ...], weekly: list[list[Interval]]) -> None:
    """Warn when the line closes after the day's last batch: what is left after it waits for the next day (may be meant)."""
    waiting: dict[tuple[int, int], list[int]] = {}  # (last batch before the close, the close) -> weekdays
    for day, intervals in enumerate(weekly):
        close = max((i.end for i in intervals), default=None)
        if close is None or close >= DAY_SECONDS or any(t >= close for t in times):
            continue  # closed all day, open to midnight, or a batch after the close carries the rest
        waiting.setdefault((max(times), close), []).append(day)
    for (last, close), days in waiting.items():
        b.source.warning(
            ("center", "messages", mid, "times"),
            f"on {_days(days)}, messages left after the batch at {clock(last)} (the line closes at {clock(close)})"
            f" wait until the batch at {clock(times[0])} the next day",
            f"if they are wanted the same day, add a batch at or after {clock(close)}",
        )


def _days(days: list[int]) -> str:
    """Weekdays as written: 'mon-fri', 'mon, wed'."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(WEEKDAYS[r[0]] + (f"-{WEEKDAYS[r[-1]]}" if len(r) > 1 else "") for r in runs)


def _lines(paths: Iterable[Path], tenants: Mapping[str, model.Tenant], service: model.Service115 | None) -> list[Line]:
    """The lines whose start records into a mailbox, from where its targets are; [] when one is elsewhere."""
    lines: list[Line] = []
    for path in paths:
        tenant = tenants.get(str(path[1])) if len(path) > 2 and path[0] == "tenants" else None
        if tenant is not None and path[2:] == ("start",):
            lines.append((dotted(path[:2]), tenant.schedule))
            if tenant.id in tenants_via_115(service) and service is not None:
                lines.append((f"service_115 for {tenant.id}", service.schedules[tenant.id]))
        elif tenant is not None and path[2] == "entries" and path[4:] == ("start",) and str(path[3]) in tenant.entries:
            lines.append((dotted(path[:4]), tenant.entries[str(path[3])].schedule))
        else:
            return []
    return lines


def _open_between(weekly: list[list[Interval]], day: int, start: int, end: int) -> bool:
    """Whether a line is open on ``day`` between ``start`` and ``end``; ``end <= start``: from the day before."""
    if end > start:
        return any(i.start < end and start < i.end for i in weekly[day])
    return _open_between(weekly, (day - 1) % 7, start, DAY_SECONDS) or (end > 0 and _open_between(weekly, day, 0, end))


def _hours(schedule: Schedule) -> str:
    """Weekly hours as written: 'mon-fri 07:00-12:00, sat 08:00-10:00'."""
    groups: list[tuple[int, int, tuple[Interval, ...]]] = []
    for day, intervals in enumerate(schedule.weekly):
        if groups and groups[-1][2] == intervals and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, intervals)
        else:
            groups.append((day, day, intervals))
    shown = [
        f"{WEEKDAYS[first]}{'-' + WEEKDAYS[last] if last > first else ''} {', '.join(str(i) for i in intervals)}"
        for first, last, intervals in groups
        if intervals
    ]
    return ", ".join(shown)


def _written_index(b: Builder, mid: str, second: int) -> int:
    """The index of ``second`` in the intake's written times, for the error's place."""
    center = b.parts.center
    texts = center.messages[mid].times if center else []
    return next((n for n, text in enumerate(texts) if parse_clock(text) == second), 0)


def check_intake_use(b: Builder, center: schema.Center | None) -> None:
    """An intake that no {voicemail: ...} leads to is warned about; a voicemail a letter off its mailbox is an error.

    Checked once over all periods of dated changes: an intake a pilot line uses until its end is in use.
    """
    if center is None:
        return
    mailboxes = {spec.mailbox for spec in center.messages.values()}
    others = {box: paths for box, paths in b.voicemails.items() if box not in mailboxes}
    for mid, spec in center.messages.items():
        if spec.mailbox in b.voicemails:
            continue
        path = ("center", "messages", mid, "mailbox")
        for box in difflib.get_close_matches(spec.mailbox, others, n=3, cutoff=0.8):
            for where in others[box]:
                b.source.error(
                    (*where, "voicemail"),
                    f"'{box}' is no message intake's mailbox, and intake '{mid}' ({spec.name}) records into {spec.mailbox},"
                    " which nothing leads to",
                    f"did you mean '{spec.mailbox}'? ({dotted(path)})",
                )
        b.source.warning(
            path,
            f"no {{voicemail: {spec.mailbox}}} leads to intake '{mid}' ({spec.name}): it never gets a message",
            f"give a line's start {{voicemail: {spec.mailbox}}}, or remove the intake",
        )
