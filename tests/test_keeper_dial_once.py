"""A callback attempt is dialled once also when the worker dies right after its Originate (before any bookkeeping)
while its Asterisk keeps the call: the restarted worker asks Asterisk (CoreShowChannels) for the attempt's Local
channel instead of dialling again; an attempt whose channel is gone without a result is dialled again (none lost).
In-process, on a fake AMI; the kill is a BaseException raised as the Originate's answer comes back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pbx import actions
from pbx import contract as c
from tests.fakes import FakeAmi, event_list
from tests.keeper_kit import MONDAY, Lab, request_line, run, started
from tests.test_keeper import queue_status


class Killed(BaseException):
    """The worker's process ends here (SIGKILL): nothing after it runs, no finally of its own code is relied on."""


def channels(attempts: list[str]) -> Any:
    """CoreShowChannels of an Asterisk on which these attempts' Local channels are up (the agent talks to the caller)."""
    events: list[dict[str, str | list[str]]] = []
    for n, attempt in enumerate(attempts):
        for half in ("1", "2"):
            name = f"Local/{attempt}@{c.CONTEXT_CALLBACK_QUEUE}-{n:08x};{half}"
            events.append({"Event": "CoreShowChannel", "Channel": name, "Context": c.CONTEXT_CALLBACK_DIAL, "Exten": attempt})
    return event_list("CoreShowChannels", events)


def test_a_worker_killed_right_after_its_originate_never_dials_that_callback_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    send = actions.send

    async def originate_then_die(manager: Any, action: dict[str, str], timeout: float) -> Any:
        reply = await send(manager, action, timeout)
        if action.get("Action") == "Originate":
            raise Killed
        return reply

    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", request_line("callback", MONDAY))
        lab.ami.handlers["queuestatus"] = queue_status(members=2, waiting=[], now=MONDAY)
        lab.ami.handlers["coreshowchannels"] = channels([])
        first = await started(lab)
        with monkeypatch.context() as patched:
            patched.setattr(actions, "send", originate_then_die)
            with pytest.raises(Killed):
                await first.round()
        await first.link.close()  # gone: its lease is left to expire, its database rows as they were
        (originate,) = lab.originated
        attempt = originate["Exten"]
        lab.ami.handlers["coreshowchannels"] = channels([attempt])  # Asterisk lives on: the agent talks to the caller
        lab.now += 3600  # longer than any attempt could wait and ring: only Asterisk knows it still runs
        second = await started(lab)
        try:
            await second.round()
            await second.round()
            assert len(lab.originated) == 1  # not dialled again
            lab.result(attempt, "ANSWER")
            lab.ami.handlers["coreshowchannels"] = channels([])
            await second.round()
        finally:
            await second.close()
        row = lab.store().callback("1700000000.1")
        assert row is not None and (row["status"], row["attempts"]) == ("reached", 1)
        assert len(lab.originated) == 1

    run(tmp_path, scenario)


def test_an_attempt_whose_channel_is_gone_without_a_result_is_dialled_again_within_a_minute(tmp_path: Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", request_line("callback", MONDAY))
        lab.ami.handlers["queuestatus"] = queue_status(members=2, waiting=[], now=MONDAY)
        lab.ami.handlers["coreshowchannels"] = channels([])
        keeper = await started(lab)
        try:
            await keeper.round()
            lab.now += 60  # Asterisk restarted meanwhile: no channel, no result file, no OriginateResponse
            await keeper.round()
            await keeper.round()
        finally:
            await keeper.close()
        first, again = lab.originated
        assert first["Exten"] != again["Exten"]
        row = lab.store().callback("1700000000.1")
        assert row is not None and (row["status"], row["attempts"], row["attempt_id"]) == ("dialling", 1, again["Exten"])

    run(tmp_path, scenario)


def test_another_nodes_attempt_is_left_to_it_while_it_lives_and_dialled_again_when_it_is_gone(tmp_path: Path) -> None:
    """Two nodes on one database: node a originated the callback, then lost the dialling lease to node b (its AMI link
    dropped for a moment). An hour later b leaves the attempt alone (a's Asterisk still has it, a sees it); once node a
    is gone, Asterisk and worker, b dials the callback again."""

    async def main() -> None:
        ami_a, ami_b = FakeAmi(), FakeAmi()
        lab_a, lab_b = Lab(tmp_path / "a", ami_a, await ami_a.start()), Lab(tmp_path / "b", ami_b, await ami_b.start())
        for lab, node in ((lab_a, "node-a"), (lab_b, "node-b")):
            lab.settings = replace(lab.settings, db_url=lab_a.db, node=node, ami=replace(lab.settings.ami, first_retry=0.05))
            lab.ami.handlers["queuestatus"] = queue_status(members=2, waiting=[], now=MONDAY)
            lab.ami.handlers["coreshowchannels"] = channels([])
        a = await started(lab_a)
        lab_a.request("1700000000.1", request_line("callback", MONDAY - 60))
        await a.round()
        (attempt,) = [o["Exten"] for o in lab_a.originated]
        ami_a.handlers["coreshowchannels"] = channels([attempt])
        b = await started(lab_b)
        try:
            ami_a.drop()  # a's link drops for a moment: a lets its leases go, b takes the dialling
            await _until(lambda: not a.link.up)
            await a.round()
            await b.round()
            await _until(lambda: a.link.up)
            for now in (MONDAY + 5, MONDAY + 3600):
                lab_a.now = lab_b.now = now
                await a.round()  # a: its presence, and its attempt still in its Asterisk
                await b.round()
            assert (len(lab_a.originated), len(lab_b.originated)) == (1, 0)
            await a.close()
            await ami_a.stop()  # node a is gone
            lab_b.now = MONDAY + 3600 + 20
            await b.round()
            assert (len(lab_a.originated), len(lab_b.originated)) == (1, 1)
        finally:
            await a.close()
            await b.close()
            await ami_a.stop()
            await ami_b.stop()

    asyncio.run(main())


async def _until(check: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not check():
            await asyncio.sleep(0.02)
