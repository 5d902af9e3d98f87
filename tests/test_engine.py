from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.engine import Ask, Call, Decision, Live, Outcome, decide, press, start
from routing.loader import load_or_raise
from routing.model import Center, Entry
from tests.conftest import at

MONDAY = at("2026-11-23 10:00")


def test_own_number_in_hours_reaches_the_topic_queue(example: Center) -> None:
    d = decide(example, Call("0571 89-0", "0571 12345"), MONDAY, keys="1")
    assert (d.outcome, d.tenant, d.ctx.entry, d.ctx.topic, d.queue) == (Outcome.QUEUE, "minden", Entry.OWN, "ausweis", "buergerservice")
    assert d.agent_label == "[Stadt Minden] Personalausweis und Reisepass"
    assert d.queue_timeout == 300 and d.overflow is not None


def test_start_asks_with_greeting_then_menu(example: Center) -> None:
    step = start(example, Call("0571 89-0", "0571 12345"), MONDAY)
    assert isinstance(step, Ask)
    assert [p.file for p in step.play] == ["tenants/minden/greeting", "tenants/minden/menus/main/prompt"]
    assert step.timeout == 5 and step.attempt == 1


def test_invalid_key_replays_with_the_invalid_prompt(example: Center) -> None:
    step = start(example, Call("0571 807-0", "0571 4711"), MONDAY)
    assert isinstance(step, Ask)
    again = press(example, step, "9")
    assert isinstance(again, Ask)
    assert again.attempt == 2
    assert [p.file for p in again.play] == ["tenants/kreis/menus/main/invalid", "tenants/kreis/menus/main/prompt"]
    silent = press(example, again, None)
    assert isinstance(silent, Ask)
    assert silent.play[0].file == "tenants/kreis/menus/main/no_input"


def test_retries_are_counted_exactly(example: Center) -> None:
    # Kreis main menu: retries 2, so three attempts; the third failure goes to the default.
    step = start(example, Call("0571 807-0", "0571 4711"), MONDAY)
    for attempt in (1, 2, 3):
        assert isinstance(step, Ask) and step.attempt == attempt
        step = press(example, step, None)
    assert isinstance(step, Decision)
    assert step.ctx.topic == "allgemein" and step.reason == "menu_default"


def test_115_hidden_and_unknown_callers(example: Center) -> None:
    hidden = decide(example, Call("115", "anonymous"), MONDAY, keys="0")
    assert (hidden.tenant, hidden.ctx.entry) == ("kreis", Entry.SERVICE_115)
    elsewhere = decide(example, Call("115", "030 1234567"), MONDAY)
    assert (elsewhere.tenant, elsewhere.queue, elsewhere.agent_label) == (None, "buergerservice", "[115]")
    assert [p.file for p in elsewhere.play] == ["service_115/greeting", "service_115/unknown_caller/announcement"]


def test_115_greets_with_115_then_the_tenant(example: Center) -> None:
    step = start(example, Call("115", "05722 1"), MONDAY)
    assert isinstance(step, Ask)
    assert [p.file for p in step.play][:2] == ["service_115/greeting", "tenants/bueckeburg/greeting"]


def test_holiday_plays_the_holiday_announcement(example: Center) -> None:
    d = decide(example, Call("0571 89-0", "0571 1"), at("2026-12-25 10:00"))
    assert d.reason == "holiday" and d.outcome is Outcome.HANGUP
    assert d.play[-1].file == "center/closed/holiday_announcement"
    assert "opens again Mon 28.12. 07:30" in d.ctx.trace[-3]


def test_department_forward_carries_number_and_fallback(example: Center) -> None:
    d = decide(example, Call("0571 89-0", "0571 1"), at("2026-11-26 15:00"), keys="3")
    assert (d.outcome, d.department, d.number, d.ring_timeout) == (Outcome.DEPARTMENT, "standesamt-minden", "+4957189300", 25)
    assert d.unanswered is not None and d.unanswered.kind.value == "callback"


def test_emergency_replace_ignores_hours_and_announce_keeps_the_menu(write: Callable[..., Path]) -> None:
    center = load_or_raise(
        write(
            """\
center: {name: Test, state: NW, fallback_queue: q}
queues: {q: {}, notruf: {}}
topics: {t: {name: Thema, queue: q}}
tenants:
  a:
    name: A
    numbers: ["0281 1"]
    hours: {mon-fri: "08:00-16:00"}
    start: {topic: t}
    emergencies:
      bombe: {name: Bombe, announcement: "Bombe.", queue: notruf}
      sturm: {name: Sturm, announcement: "Sturm.", mode: announce}
"""
        )
    )
    sunday = at("2026-11-29 10:00")
    on = decide(center, Call("0281 1", "0281 2"), sunday, Live(emergencies=frozenset({("a", "bombe")})))
    assert (on.queue, on.reason, on.agent_label) == ("notruf", "emergency", "[A] Bombe")
    announce = decide(center, Call("0281 1", "0281 2"), MONDAY, Live(emergencies=frozenset({("a", "sturm")})))
    assert announce.queue == "q" and [p.text for p in announce.play] == ["Sturm."]


def test_unknown_number_without_fallback_hangs_up(write: Callable[..., Path]) -> None:
    center = load_or_raise(
        write(
            """\
center: {name: Test, state: NW}
queues: {q: {}}
topics: {t: {name: Thema, queue: q}}
tenants:
  a: {name: A, numbers: ["0281 1"], start: {topic: t}}
"""
        )
    )
    d = decide(center, Call("0281 999"), MONDAY)
    assert (d.outcome, d.reason) == (Outcome.HANGUP, "unknown_number")


@pytest.mark.parametrize(
    ("live", "queue", "reason"),
    [
        (Live(), "kfz", "in_hours"),
        (Live(agents={"kfz": 2}), "kfz", "in_hours"),
        (Live(agents={"kfz": 0, "buergerservice": 3}), "buergerservice", "overflow"),
    ],
)
def test_overflow_on_no_agents(example: Center, live: Live, queue: str, reason: str) -> None:
    d = decide(example, Call("0571 807-0", "0571 4711"), MONDAY, live, keys="11")
    assert (d.queue, d.reason) == (queue, reason)


def test_chained_overflow_ends_in_callback(example: Center) -> None:
    live = Live(agents={"kfz": 0, "buergerservice": 0})
    d = decide(example, Call("0571 807-0", "0571 4711"), MONDAY, live, keys="11")
    assert (d.outcome, d.reason) == (Outcome.CALLBACK, "overflow")
    assert [p.file for p in d.play][-1] == "queues/buergerservice/overflow/announcement"


def test_callback_notes_a_hidden_number(example: Center) -> None:
    d = decide(example, Call("0571 89-0", "anonymous"), MONDAY, Live(waiting={"buergerservice": 30}), keys="1")
    assert d.outcome is Outcome.CALLBACK
    assert d.ctx.caller is None and "must be asked for" in d.ctx.trace[-1]


keys = st.text(alphabet="0123456789*#T", max_size=12)
numbers = st.sampled_from(["0571 89-0", "0571 807-0", "05741 90-0", "05702 822-0", "05722 206-0", "0571 3885-0", "115", "0571 99-0"])
callers = st.sampled_from(["0571 12345", "05722 1", "05702 9", "030 123", "anonymous", "", "+31 20 1234"])
times = st.datetimes(min_value=at("2026-01-01 00:00").replace(tzinfo=None), max_value=at("2027-12-31 23:59").replace(tzinfo=None))


@settings(max_examples=300)
@given(to=numbers, caller=callers, when=times, pressed=keys)
def test_every_call_ends_in_a_consistent_decision(example: Center, to: str, caller: str, when: object, pressed: str) -> None:
    now = when.replace(tzinfo=at("2026-01-01 00:00").tzinfo)  # type: ignore[attr-defined]
    d = decide(example, Call(to, caller), now, keys=pressed)
    assert d.ctx.trace
    if d.outcome is Outcome.QUEUE:
        assert d.queue in example.queues
    if d.ctx.topic is not None and d.reason != "emergency":
        assert d.ctx.tenant is not None and d.ctx.topic in d.ctx.tenant.topics
    if d.outcome is Outcome.DEPARTMENT:
        assert d.number == example.departments[d.department or ""].number
    if d.tenant is not None and d.reason in ("in_hours", "menu_default"):
        schedule = (
            example.service_115.schedules[d.tenant]
            if d.ctx.entry is Entry.SERVICE_115 and example.service_115
            else example.tenants[d.tenant].schedule
        )
        assert schedule.status(now, example.tz).open


def test_a_partner_served_only_in_some_hours_goes_to_its_own_office_outside_them(write: Callable[..., Path]) -> None:
    config = """\
center: {name: Test, state: NW, fallback_queue: q}
queues: {q: {}}
topics: {t: {name: Thema, queue: q}}
departments:
  rathaus:
    {name: Rathaus, number: "05702 822-140", hours: {mon-fri: "08:00-16:00"}, unanswered: callback,
     closed: {announcement: Das Rathaus ist geschlossen., hangup: true}}
tenants:
  stadt:
    name: Stadt
    numbers: ["05702 822-0"]
    hours: {mon-fri: "08:00-13:00"}
    start: {topic: t}
    closed: {announcement: Wir verbinden Sie mit dem Rathaus., then: {department: rathaus}}
"""
    center = load_or_raise(write(config))
    morning = decide(center, Call("05702 822-0", "05702 1"), at("2026-11-23 10:00"), Live())
    afternoon = decide(center, Call("05702 822-0", "05702 1"), at("2026-11-23 14:00"), Live())
    evening = decide(center, Call("05702 822-0", "05702 1"), at("2026-11-23 17:00"), Live())
    assert (morning.outcome, morning.queue) == (Outcome.QUEUE, "q")
    assert (afternoon.outcome, afternoon.department, afternoon.reason) == (Outcome.DEPARTMENT, "rathaus", "closed")
    assert (evening.outcome, evening.reason) == (Outcome.HANGUP, "department_closed")
