"""Emergency lines with their own numbers: answered while switched on, routed as configured while off, catching 115."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ivr.agi import resume_from_args
from routing.engine import Call, Live, Outcome, decide
from routing.loader import load_or_raise
from routing.model import Center, Entry
from tests.conftest import at

CONFIG = """\
center: {name: Test, state: NW, fallback_queue: q, hours: {mon-fri: "08:00-16:00"}}
queues: {q: {}, sturm: {}}
topics: {t: {name: Thema, queue: q}}
tenants:
  stadt:
    name: Stadt
    numbers: ["0281 1"]
    start: {topic: t}
    emergencies:
      sturm:
        name: Sturmtelefon
        announcement: Sie erreichen das Sturmtelefon.
        queue: sturm
        numbers: ["0281 999"]
        catch_115: true
      hitze:
        name: Hitzetelefon
        announcement: Sie erreichen das Hitzetelefon.
        queue: sturm
        numbers: ["0281 998"]
        ignore_hours: false
        when_off: {announcement: Das Hitzetelefon ist nicht geschaltet., hangup: true}
service_115:
  prefixes: {"0281": stadt}
  unknown_caller: {queue: q}
"""
MONDAY, NIGHT = at("2026-11-23 10:00"), at("2026-11-23 22:00")
STORM = Live(emergencies=frozenset({("stadt", "sturm")}))


def center(write: Callable[..., Path]) -> Center:
    return load_or_raise(write(CONFIG))


def test_the_line_answers_its_number_while_switched_on_even_at_night(write: Callable[..., Path]) -> None:
    decision = decide(center(write), Call("0281 999", "0281 4711"), NIGHT, STORM)
    assert (decision.outcome, decision.queue, decision.reason) == (Outcome.QUEUE, "sturm", "emergency")
    assert (decision.tenant, decision.ctx.entry, decision.ctx.topic) == ("stadt", Entry.EMERGENCY, "sturm")
    assert [p.text for p in decision.ctx.played] == ["Sie erreichen das Sturmtelefon."]
    assert decision.agent_label == "[Stadt] Sturmtelefon"


def test_switched_off_its_number_routes_like_the_tenants_own_or_to_when_off(write: Callable[..., Path]) -> None:
    config = center(write)
    own = decide(config, Call("0281 999", "0281 4711"), MONDAY, Live())
    assert (own.ctx.entry, own.queue, own.reason) == (Entry.OWN, "q", "in_hours")
    off = decide(config, Call("0281 998", "0281 4711"), MONDAY, Live())
    assert (off.outcome, off.reason, off.ctx.entry) == (Outcome.HANGUP, "emergency_off", Entry.EMERGENCY)
    assert [p.text for p in off.ctx.played] == ["Das Hitzetelefon ist nicht geschaltet."]


def test_a_line_with_numbers_leaves_the_tenants_other_numbers_alone(write: Callable[..., Path]) -> None:
    decision = decide(center(write), Call("0281 1", "0281 4711"), MONDAY, STORM)
    assert (decision.queue, decision.ctx.entry, decision.reason) == ("q", Entry.OWN, "in_hours")


def test_a_line_that_keeps_hours_is_closed_outside_them(write: Callable[..., Path]) -> None:
    heat = Live(emergencies=frozenset({("stadt", "hitze")}))
    assert decide(center(write), Call("0281 998", "0281 4711"), NIGHT, heat).reason == "closed"
    assert decide(center(write), Call("0281 998", "0281 4711"), MONDAY, heat).queue == "sturm"


def test_while_on_it_catches_115_callers_that_no_tenant_takes(write: Callable[..., Path]) -> None:
    config = center(write)
    caught = decide(config, Call("115", "030 1234567"), MONDAY, STORM)
    assert (caught.queue, caught.ctx.entry, caught.ctx.topic) == ("sturm", Entry.EMERGENCY, "sturm")
    assert "caught by the emergency line sturm of stadt" in caught.ctx.trace[0]
    assert decide(config, Call("115", "anonymous"), MONDAY, STORM).queue == "sturm"
    assert decide(config, Call("115", "0281 4711"), MONDAY, STORM, "1").queue == "q"  # a tenant takes it: not caught
    assert decide(config, Call("115", "030 1234567"), MONDAY, Live()).queue == "q"  # off: unknown_caller


def test_a_call_asked_again_keeps_the_emergency_entry() -> None:
    assert resume_from_args(("queue", "sturm", "stadt", "emergency", "sturm", "")).entry is Entry.EMERGENCY
