"""115 calls follow 115's hours and the holidays of whom they reach; numbers in the forms trunks send."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from ivr.session import session
from outcomes.commands import Stream, WaitDigit
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


SHARED = """\
center: {name: Test, state: NW, fallback_queue: q, hours: {mon-fri: "08:00-16:00"}}
queues: {q: {}, k: {}}
topics: {t: {name: Thema, queue: q}, u: {name: Kreisthema, queue: k}}
tenants:
  stadt: {name: Stadt Minden, numbers: ["0571 1"], start: {topic: t}}
  kreis: {name: Kreis Minden-Lübbecke, numbers: ["0571 2"], start: {topic: u}}
  bueckeburg: {name: Bückeburg, state: NI, numbers: ["05722 1"], start: {topic: t}}
service_115:
  greeting: Behördennummer 115.
  prefixes:
    "057": kreis
    "0571": {tenants: [stadt, kreis], default: kreis}
    "05722": [bueckeburg, kreis]
  unknown_caller: {queue: q}
"""


def test_a_shared_prefix_lets_the_115_caller_choose_the_administration(write: Callable[..., Path]) -> None:
    center = load_or_raise(write(SHARED))
    monday = at("2026-11-23 10:00")
    chosen = {keys: decide(center, Call("115", "0571 12345"), monday, Live(), keys) for keys in ("1", "2", "TT", "7T")}
    assert {keys: (d.tenant, d.queue) for keys, d in chosen.items()} == {
        "1": ("stadt", "q"),
        "2": ("kreis", "k"),
        "TT": ("kreis", "k"),  # no key, asked twice: the default
        "7T": ("kreis", "k"),  # a key that is no choice, then nothing
    }
    assert "menu 115-49571: no key pressed; that was attempt 2 of 2 -> default tenant kreis" in chosen["TT"].ctx.trace
    files = [p.file for p in chosen["1"].ctx.played]
    assert files == ["service_115/greeting", "service_115/choices/49571/prompt"]  # then no tenant greeting: it has none
    assert chosen["1"].ctx.played[1].text == "Für Stadt Minden drücken Sie die 1. Für Kreis Minden-Lübbecke drücken Sie die 2."
    assert "caller prefix +49571 (the longest that matches; also +4957) is shared by stadt, kreis" in chosen["1"].ctx.trace[0]
    assert [p.file for p in chosen["7T"].ctx.played].count("service_115/choices/invalid") == 1
    assert any(p.file == "service_115/choices/49571/prompt" for p in center.prompts)  # lotse prompts build makes it


def test_no_choice_is_offered_while_115_is_closed_for_every_tenant_of_the_prefix(write: Callable[..., Path]) -> None:
    center = load_or_raise(write(SHARED))
    night = decide(center, Call("115", "0571 12345"), at("2026-11-23 20:00"), Live())
    assert (night.tenant, night.outcome, night.reason) == ("kreis", Outcome.HANGUP, "closed")
    assert not any("choices" in p.file for p in night.ctx.played)
    # Reformationstag (Fri 31.10.2025) is a holiday in NI (Bückeburg), not in NW (the county): the choice is offered
    holiday = at("2025-10-31 10:00")
    assert decide(center, Call("115", "05722 333"), holiday, Live(), "1").reason == "holiday"
    assert decide(center, Call("115", "05722 333"), holiday, Live(), "2").tenant == "kreis"


def test_after_the_last_wrong_key_of_a_choice_its_invalid_prompt_is_traced_and_played_once(write: Callable[..., Path]) -> None:
    center = load_or_raise(write(SHARED))
    decision = decide(center, Call("115", "0571 12345"), at("2026-11-23 10:00"), Live(), "77")
    assert [p.file for p in decision.ctx.played].count("service_115/choices/invalid") == 2  # once per wrong key
    assert sum("plays service_115/choices/invalid" in line for line in decision.ctx.trace) == 2
    steps, keys, played = session(center, Call("115", "0571 12345"), at("2026-11-23 10:00"), Live(), "/p"), iter("77"), []
    with contextlib.suppress(StopIteration):  # the IVR: a key for each wait, then nothing
        command = next(steps)
        while True:
            played += [command.file] if isinstance(command, Stream) else []
            command = steps.send(next(keys, None) if isinstance(command, WaitDigit) else None)
    assert played.count("/p/service_115/choices/invalid") == 2


def test_the_announcement_of_a_115_target_that_names_a_tenant_is_played(write: Callable[..., Path]) -> None:
    hidden = "hidden_caller: {tenant: augsburg, announcement: Ohne Rufnummer verbinden wir Sie mit Augsburg.}"
    center = load_or_raise(write(BAVARIA.replace("unknown_caller: {queue: q}", f"unknown_caller: {{queue: q}}\n  {hidden}")))
    decision = decide(center, Call("115", "anonymous"), at("2026-11-23 10:00"), Live())
    assert (decision.tenant, decision.queue) == ("augsburg", "q")
    assert [p.text for p in decision.play] == ["Ohne Rufnummer verbinden wir Sie mit Augsburg."]
    assert sum("Ohne Rufnummer" in line for line in decision.ctx.trace) == 1
