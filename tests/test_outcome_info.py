"""The info outcome (outcomes/info.py): an announcement with repeat and back-to-menu keys, resolved in the IVR."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.session import Session, session
from metrics.tracker import Privacy, Tracker
from outcomes.commands import Command, SetVariable, Stream, WaitDigit
from outcomes.kind import DispatchOptions
from outcomes.registry import KINDS, dispatch
from outcomes.results import Result
from pbx import contract as c
from render.dialplan import RenderOptions, render
from render.prompts import wanted
from routing.engine import Call, Decision, Live, Outcome
from routing.loader import load_or_raise
from routing.model import Center
from tests.conftest import at

MINDEN = Call("0571890", "+495714711")
MONDAY = "2026-11-23 10:00"
ANNOUNCEMENT = "/p/tenants/minden/infos/abfuhr/announcement"
KEYS = "/p/info/keys-1-back-0"
MENU = "/p/tenants/minden/menus/main/prompt"


def drive(steps: Session, answer: Callable[[Command], str | None]) -> tuple[list[Command], Decision]:
    """Run a session to its decision, answering each command with ``answer(command)``."""
    commands: list[Command] = []
    try:
        command = next(steps)
        while True:
            commands.append(command)
            command = steps.send(answer(command))
    except StopIteration as stop:
        return commands, stop.value


def keys(*pressed: tuple[str, str]) -> Callable[[Command], str | None]:
    """The caller presses each (file, key) of ``pressed`` in order, while that file plays; nothing else."""
    waiting = list(pressed)

    def answer(command: Command) -> str | None:
        if waiting and isinstance(command, Stream) and command.file == waiting[0][0]:
            return waiting.pop(0)[1]
        return None

    return answer


def decided(commands: list[Command]) -> dict[str, str]:
    (packed,) = [cmd.value for cmd in commands if isinstance(cmd, SetVariable)]
    return c.unpack(packed)


def test_the_caller_hears_the_info_and_its_keys_and_the_call_ends_as_info(example: Center) -> None:
    commands, decision = drive(session(example, MINDEN, at(MONDAY), Live(), "/p"), keys((MENU, "4")))
    assert commands[-4:-1] == [Stream(ANNOUNCEMENT, "10"), Stream(KEYS, "10"), WaitDigit(5000)]
    assert decided(commands)[c.VAR_OUTCOME] == "info"
    assert decision.outcome is Outcome.INFO and decision.ref == "abfuhr" and decision.menu == "main"


def test_the_repeat_key_plays_it_again_up_to_its_plays(example: Center) -> None:
    commands, _ = drive(session(example, MINDEN, at(MONDAY), Live(), "/p"), keys((MENU, "4"), *[(ANNOUNCEMENT, "1")] * 5))
    assert [cmd for cmd in commands if cmd == Stream(ANNOUNCEMENT, "10")] == [Stream(ANNOUNCEMENT, "10")] * 3  # plays: 3
    assert decided(commands)[c.VAR_OUTCOME] == "info"


def test_the_back_key_returns_to_the_menu_and_the_next_choice_decides(example: Center) -> None:
    pressed = keys((MENU, "4"), (ANNOUNCEMENT, "0"), (MENU, "2"))  # the info, back, then Abfallberatung
    commands, decision = drive(session(example, MINDEN, at(MONDAY), Live(), "/p"), pressed)
    menus = [n for n, cmd in enumerate(commands) if isinstance(cmd, Stream) and cmd.file == MENU]
    assert len(menus) == 2 and commands[menus[0] + 1] == Stream(ANNOUNCEMENT, "10")
    values = decided(commands)  # one decision only: the info handed none to the dialplan
    assert (values[c.VAR_OUTCOME], values[c.VAR_TOPIC], values[c.VAR_QUEUE]) == ("queue", "abfall", "buergerservice")
    assert "back to menu main" in decision.ctx.trace


def test_another_key_ends_it_as_heard(example: Center) -> None:
    commands, _ = drive(session(example, MINDEN, at(MONDAY), Live(), "/p"), keys((MENU, "4"), (ANNOUNCEMENT, "7")))
    assert decided(commands)[c.VAR_OUTCOME] == "info"
    assert commands.count(Stream(ANNOUNCEMENT, "10")) == 1


def test_an_info_outside_a_menu_offers_only_the_repeat_key(write: Callable[..., Path]) -> None:
    config = write(
        """
center: {name: Test, state: NW, fallback_queue: q, hours: {mon-sun: "00:00-24:00"}}
queues: {q: {}}
tenants:
  a:
    name: A
    numbers: ["0281 1"]
    start: {info: zeiten}
    infos: {zeiten: {name: Öffnungszeiten, announcement: "Wir sind täglich für Sie da.", repeat_key: "*"}}
"""
    )
    center = load_or_raise(config)
    commands, _ = drive(session(center, Call("02811", None), at(MONDAY), Live(), "/p"), lambda cmd: None)
    assert commands[:3] == [Stream("/p/tenants/a/infos/zeiten/announcement", "*"), Stream("/p/info/keys-star", "*"), WaitDigit(5000)]
    assert {"info/keys-star", "info/keys-star-back-0"} <= {p.file for p in wanted(center)}
    assert next(p.text for p in wanted(center) if p.file == "info/keys-star") == "Zum Wiederholen drücken Sie die Stern-Taste."


def test_every_outcome_has_its_kind_and_its_extension_in_the_dispatch(example: Center) -> None:
    assert set(KINDS) == set(Outcome)
    extensions = render(example, RenderOptions(), "test")["extensions_lotse.conf"]
    dispatch_context = extensions.split(f"[{c.CONTEXT_DISPATCH}]", 1)[1]
    for outcome in Outcome:
        assert f"exten => {outcome.value},1," in dispatch_context
    assert "exten => info,1,Hangup()" in dispatch(DispatchOptions(dial="", spool=""))


@pytest.mark.parametrize(("reason", "result"), [("in_hours", Result.INFORMED), ("menu_default", Result.INFORMED)])
def test_a_call_that_heard_an_info_is_recorded_as_informed(reason: str, result: Result) -> None:
    """The lab's capture of a closed call (decided hangup), with the decision an info's instead."""
    text = (Path(__file__).parent / "data" / "ami" / "closed.jsonl").read_text(encoding="utf-8")
    text = text.replace('"Value": "hangup"', '"Value": "info"').replace('"Value": "closed"', f'"Value": "{reason}"')
    tracker = Tracker(Privacy.TRUNCATED, salt="pepper")
    found = [r for line in text.splitlines() if (r := tracker.feed(json.loads(line), received=0.0)) is not None]
    assert [(r.outcome, r.reason) for r in found] == [(result, reason)]
