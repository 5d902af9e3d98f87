"""A tenant's further entries (own numbers, start, hours) and dated changes (valid_from / valid_until)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from ivr.agi import resume_from_args
from ivr.fastagi import IvrServer, ServerSettings
from ivr.session import decision_values, queue_callback, run
from routing import dated
from routing.engine import Call, Outcome, decide, resume
from routing.loader import load, load_or_raise
from routing.model import Center, Entry
from routing.schema import Topic
from routing.validate import Parts
from tests.conftest import EXAMPLE, at
from tests.fakes import agi_call

SCHOOL_LINE = "0571 89-444"
PORTA = "0571 791-0"


def test_an_entry_opens_with_its_own_hours_and_start(example: Center) -> None:
    early = at("2026-11-23 07:15")  # the school line is open, the city's main number (07:30) not yet
    line = decide(example, Call(SCHOOL_LINE, "0571 4711"), early)
    assert (line.outcome, line.mailbox, line.tenant, line.ctx.entry, line.ctx.entry_id) == (
        Outcome.VOICEMAIL,
        "schulen@lotse",
        "minden",
        Entry.OWN,
        "schulen",
    )
    assert [p.file for p in line.play] == ["tenants/minden/entries/schulen/greeting", "tenants/minden/entries/schulen/start/announcement"]
    assert line.ctx.trace[0] == "dialled +4957189444: entry schulen (Krankmeldung Schulen) of minden"
    main = decide(example, Call("0571 89-0", "0571 4711"), early)
    assert (main.reason, main.ctx.entry_id) == ("closed", "own")


def test_an_entry_outside_its_hours_plays_its_own_closed_announcement(example: Center) -> None:
    late = decide(example, Call(SCHOOL_LINE, "0571 4711"), at("2026-11-23 13:00"))
    assert (late.outcome, late.reason) == (Outcome.HANGUP, "closed")
    assert [p.file for p in late.play][-1] == "tenants/minden/entries/schulen/closed/announcement"


def test_figures_count_an_entry_under_its_id(example: Center) -> None:
    line = decide(example, Call(SCHOOL_LINE, "0571 4711"), at("2026-11-23 07:15"))
    assert decision_values(line, "/p")["LOTSE_ENTRY"] == "schulen"
    back = resume_from_args(("queue", "buergerservice", "minden", "schulen", "allgemein", "057112345"))
    assert (back.entry, back.line) == (Entry.OWN, "schulen")
    again = resume(example, back, at("2026-11-23 10:00"))
    assert again.ctx.entry_id == "schulen"  # the overflow of a call that came in on the entry still counts under it


def test_a_pilot_entry_ends_after_its_last_day(example: Center) -> None:
    last = decide(example, Call(SCHOOL_LINE, "0571 4711"), at("2027-07-30 08:00"))
    assert last.mailbox == "schulen@lotse"
    after = decide(example, Call(SCHOOL_LINE, "0571 4711"), at("2027-08-02 08:00"))
    assert (after.reason, after.queue) == ("unknown_number", "zentrale")


def test_a_partner_exists_only_from_its_first_day(example: Center) -> None:
    before = decide(example, Call(PORTA, "0571 4711"), at("2026-12-30 10:00"))
    assert before.reason == "unknown_number"
    joined = decide(example, Call(PORTA, "0571 4711"), at("2027-01-04 10:00"), keys="1")
    assert (joined.tenant, joined.queue, joined.ctx.topic) == ("porta", "buergerservice", "ausweis")
    # its 115 prefix too: the county's 057 before, Porta's 05706 from the day on
    assert decide(example, Call("115", "05706 1234"), at("2026-12-30 10:00"), keys="0").tenant == "kreis"
    assert decide(example, Call("115", "05706 1234"), at("2027-01-04 10:00"), keys="0").tenant == "porta"


def test_the_day_is_the_centers_not_utc(example: Center) -> None:
    # 2026-12-31 23:30 UTC is already 1 January in Berlin: Porta exists (and it is a holiday: closed)
    call = decide(example, Call(PORTA, "0571 4711"), datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    assert (call.tenant, call.reason) == ("porta", "holiday")


def test_a_running_server_switches_at_the_date_without_a_reload() -> None:
    now = [at("2026-12-31 23:59")]

    async def main() -> None:
        server = IvrServer(ServerSettings(config=EXAMPLE, port=0), clock=lambda: now[0])
        await server.start()
        try:
            before = await agi_call(server.port, headers={"agi_arg_1": "05717910"})
            now[0] = at("2027-01-04 10:00")
            after = await agi_call(server.port, keys="1", headers={"agi_arg_1": "05717910"})
        finally:
            await server.close()
        assert before.variables["LOTSE_REASON"] == "unknown_number"
        assert (after.variables["LOTSE_TENANT"], after.variables["LOTSE_TOPIC"]) == ("porta", "ausweis")

    asyncio.run(main())


def test_a_number_can_pass_from_one_tenant_to_another_on_a_day(write: Callable[..., Path]) -> None:
    config = load_or_raise(
        write(
            """\
center: {name: Test, state: NW, fallback_queue: q, hours: {mon-fri: "08:00-16:00"}}
queues: {q: {}}
topics: {t: {name: Thema, queue: q}}
tenants:
  alt: {name: Alt, numbers: ["0281 1"], start: {topic: t}, valid_until: 2027-03-31}
  neu: {name: Neu, numbers: ["0281 1"], start: {topic: t}, valid_from: 2027-04-01}
"""
        )
    )
    assert decide(config, Call("0281 1"), at("2027-03-31 10:00")).tenant == "alt"
    assert decide(config, Call("0281 1"), at("2027-04-01 10:00")).tenant == "neu"


def test_a_dated_menu_appears_on_its_day_and_validate_warns_of_numbers_that_stop(write: Callable[..., Path]) -> None:
    result = load(
        write(
            """\
center: {name: Test, state: NW, fallback_queue: q, hours: {mon-fri: "08:00-16:00"}}
queues: {q: {}}
topics: {t: {name: Thema, queue: q}}
tenants:
  a:
    name: A
    numbers: ["0281 1"]
    start: {menu: main}
    menus:
      main: {prompt: "Eins.", options: {"1": {topic: t}}, default: {topic: t}, valid_until: 2027-01-31}
  b: {name: B, numbers: ["0281 2"], start: {topic: t}, valid_until: 2027-01-31}
"""
        )
    )
    assert [p.message for p in result.errors] == [
        "from 2027-02-01 on: topic 't' is not reachable from any tenant's menus",
        "from 2027-02-01 on: unknown menu 'main'",
    ]
    stop = [str(p) for p in result.warnings if "no longer routed" in p.message]
    assert stop == [
        f"{result.files[0]}:11:26: warning: tenants.b.numbers.0: from 2027-02-01 on, 0281 2 is no longer routed "
        "(nothing in force then holds it) (if that is meant, nothing to do; else extend the valid_until that ends it)"
    ]
    assert [p.message for p in result.problems_on(date(2027, 1, 15)) if p.severity.value == "error"] == []
    assert [p.message for p in result.problems_on(date(2027, 2, 15)) if p.severity.value == "error"] == [
        "topic 't' is not reachable from any tenant's menus",
        "unknown menu 'main'",
    ]


@given(st.lists(st.tuples(st.dates(date(2026, 1, 1), date(2028, 12, 31)), st.integers(0, 400)), max_size=6), st.dates(date(2025, 6, 1)))
def test_each_day_lies_in_exactly_one_period_and_its_parts_are_those_that_hold(spans: list[tuple[date, int]], day: date) -> None:
    topics = {
        f"t{n}": Topic(name="T", queue="q", valid_from=start, valid_until=start + timedelta(days=length))
        for n, (start, length) in enumerate(spans)
    }
    parts = Parts(topics=topics)
    periods = dated.periods(parts)
    assert sum(dated.contains(p, day) for p in periods) == 1
    period = next(p for p in periods if dated.contains(p, day))
    # every day of a period has the same parts: the one the loader compiles it from
    assert set(dated.on(parts, day).topics) == set(dated.on(parts, dated.a_day_in(period)).topics)
    assert set(dated.on(parts, day).topics) == {k for k, t in topics.items() if dated.holds(t, day)}


def test_a_queue_callback_of_a_tenant_that_joined_later_knows_the_tenant(example: Center) -> None:
    back = resume_from_args(("queue", "buergerservice", "porta", "own", "ausweis", "057117910"))
    _, decision = run(queue_callback(example, back, at("2027-01-04 10:00"), "/p"))
    assert (decision.tenant, decision.ctx.topic_name) == ("porta", "Personalausweis und Reisepass")  # the 2027 config's
