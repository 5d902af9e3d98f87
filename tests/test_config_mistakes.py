"""Admin mistakes that are warnings, not errors: a center may mean them (the errors are in tests/broken)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from routing.loader import load

INTAKE = """\
center:
  name: Test
  state: NW
  fallback_queue: q
  hours: {mon-fri: "08:00-16:00"}
  messages:
    krank: {name: Krankmeldungen, mailbox: schulen@lotse, to: [amt@example.org], times: ["08:30"]}
queues: {q: {}}
topics: {t: {name: Thema, queue: q}}
tenants:
  a:
    name: A
    numbers: ["0281 1"]
    start: {topic: t}
"""


def test_an_intake_nothing_records_into_is_warned_about(write: Callable[..., Path]) -> None:
    result = load(write(INTAKE))
    assert result.center is not None  # prepared before its line: no error
    assert [str(w).split(": ", 1)[1] for w in result.warnings] == [
        "warning: center.messages.krank.mailbox: no {voicemail: schulen@lotse} leads to intake 'krank' (Krankmeldungen):"
        " it never gets a message (give a line's start {voicemail: schulen@lotse}, or remove the intake)"
    ]


def test_an_intake_used_in_one_period_only_is_not_warned_about(write: Callable[..., Path]) -> None:
    line = '    entries: {s: {name: S, numbers: ["0281 2"], start: {voicemail: schulen@lotse}, valid_until: 2027-07-31}}\n'
    result = load(write(INTAKE + line))
    assert result.center is not None
    assert [w.message for w in result.warnings if "intake" in w.message] == []


def test_batch_times_are_not_checked_when_the_intake_is_reached_outside_the_lines_hours(write: Callable[..., Path]) -> None:
    times = INTAKE.replace('times: ["08:30"]', 'times: ["08:30", "12:30", "18:00"]')
    line = '    entries: {s: {name: S, numbers: ["0281 2"], hours: {mon-fri: "07:00-12:00"}, start: {voicemail: schulen@lotse}}}\n'
    assert [p.message for p in load(write(times + line)).errors] == [
        "the batch at 18:00 never carries a message:"
        " tenants.a.entries.s (mon-fri 07:00-12:00) is closed from 12:30, the batch before, to 18:00"
    ]
    closed = line.replace("start: {voicemail", "closed: {then: {voicemail: schulen@lotse}}, start: {voicemail")
    assert load(write(times + closed)).errors == ()  # recorded while closed too: 18:00 carries those


def test_messages_left_after_the_last_batch_of_the_day_waiting_overnight_are_warned_about(write: Callable[..., Path]) -> None:
    hours = '{mon-fri: "07:00-12:00", sat: "08:00-10:00"}'  # Saturday's 10:00 close has the 10:30 batch
    line = f'    entries: {{s: {{name: S, numbers: ["0281 2"], hours: {hours}, start: {{voicemail: schulen@lotse}}}}}}\n'
    result = load(write(INTAKE.replace('times: ["08:30"]', 'times: ["08:30", "10:30"]') + line))
    assert result.center is not None  # once a day in the morning may be meant
    assert [p.message for p in result.warnings if "intake" in p.message or "batch" in p.message] == [
        "on mon-fri, messages left after the batch at 10:30 (the line closes at 12:00) wait until the batch at 08:30 the next day"
    ]
