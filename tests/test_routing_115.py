"""115 calls follow 115's hours and the holidays of whom they reach; numbers in the forms trunks send."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from routing.engine import Call, Live, Outcome, decide
from routing.loader import load_or_raise
from routing.model import Center
from routing.numbers import dialled_keys
from tests.conftest import at

BAVARIA = """\
center: {name: Test, state: BY, fallback_queue: q, hours: {mon-fri: "08:00-16:00"}}
queues: {q: {}}
topics: {t: {name: Thema, queue: q}}
tenants:
  augsburg: {name: Augsburg, numbers: ["0821 3240"], start: {topic: t}, holiday_categories: [public, catholic]}
  nuernberg: {name: Nürnberg, numbers: ["0911 2310"], start: {topic: t}}
service_115:
  prefixes: {"0821": augsburg, "0911": nuernberg}
  unknown_caller: {queue: q}
"""


def test_a_115_call_no_tenant_takes_is_closed_outside_115_hours(example: Center) -> None:
    night = decide(example, Call("115", "030 1234567"), at("2026-11-23 20:00"), Live())  # Monday evening, from Berlin
    assert (night.outcome, night.reason, night.tenant) == (Outcome.HANGUP, "closed", None)
    assert any("closed:" in line for line in night.ctx.trace)
    christmas = decide(example, Call("115", "030 1234567"), at("2026-12-25 10:00"), Live())
    assert (christmas.outcome, christmas.reason) == (Outcome.HANGUP, "holiday")
    day = decide(example, Call("115", "030 1234567"), at("2026-11-23 10:00"), Live())
    assert (day.outcome, day.queue, day.reason) == (Outcome.QUEUE, "buergerservice", "in_hours")


def test_a_hidden_115_caller_routed_to_a_queue_follows_115_hours(write: Callable[..., Path]) -> None:
    center = load_or_raise(write(BAVARIA.replace("unknown_caller: {queue: q}", "unknown_caller: {queue: q}\n  hidden_caller: {queue: q}")))
    decision = decide(center, Call("115", "anonymous"), at("2026-11-22 11:00"), Live())  # a Sunday
    assert (decision.outcome, decision.reason) == (Outcome.HANGUP, "closed")


def test_115_calls_keep_the_tenants_holiday_categories(write: Callable[..., Path]) -> None:
    center = load_or_raise(write(BAVARIA))
    assumption = at("2028-08-15 10:00")  # Mariä Himmelfahrt, a Tuesday: a catholic holiday, which Augsburg keeps
    assert decide(center, Call("0821 3240", "0821 555"), assumption, Live()).reason == "holiday"  # its own number
    assert decide(center, Call("115", "0821 555"), assumption, Live()).reason == "holiday"  # and through 115
    assert decide(center, Call("115", "0911 555"), assumption, Live()).reason == "in_hours"  # Nürnberg keeps public ones only


def test_an_own_number_arrives_without_its_leading_zero() -> None:
    assert "+4957221" in dialled_keys("57221")  # national 057221 (six digits) as some trunks deliver it
    assert "+49571890" in dialled_keys("571890")
    assert dialled_keys("115") == ("115",) and dialled_keys("11880") == ("11880",)  # service codes stay as they are


def test_a_short_own_number_without_its_zero_is_routed(write: Callable[..., Path]) -> None:
    center = load_or_raise(write(BAVARIA.replace('"0821 3240"', '"05722 1"')))
    assert decide(center, Call("57221", "0821 555"), at("2026-11-23 10:00"), Live()).tenant == "augsburg"


def test_an_unknown_number_is_not_labelled_115(example: Center) -> None:
    decision = decide(example, Call("0999 12345", "0571 1"), at("2026-11-23 10:00"), Live())
    assert decision.reason == "unknown_number" and decision.agent_label == "[unbekannte Nummer]"
    via_115 = decide(example, Call("115", "030 1234567"), at("2026-11-23 10:00"), Live())
    assert via_115.agent_label == "[115]"
