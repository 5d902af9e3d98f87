"""lotse promises in-process, its callbacks: requests taken from the spool, dialled on a fake AMI (QueueStatus, Originate),
attempts' results and restarts; and the retention of numbers. What the keeper's tests share: tests/keeper_kit.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pbx import contract as c
from promises.worker import KeeperSettings
from tests.conftest import at
from tests.fakes import event_list
from tests.keeper_kit import MONDAY, NUMBER, Lab, request_line, run, started


def queue_status(members: int, waiting: list[float], now: float) -> Callable[[dict[str, str]], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = [{"Event": "QueueParams", "Queue": "buergerservice"}]
    events += [{"Event": "QueueMember", "Name": f"a{n}", "Status": "1", "Paused": "0", "InCall": "0"} for n in range(members)]
    events += [
        {"Event": "QueueEntry", "Channel": f"Local/c{n}@lotse-lab-inbound-0;2", "Wait": str(int(now - j))} for n, j in enumerate(waiting)
    ]
    return event_list("QueueStatus", events)


def test_requests_are_taken_once_and_a_bad_file_is_set_aside_with_the_reason(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", request_line("callback", MONDAY))
        lab.request("1700000000.2", request_line("ticket", MONDAY, department="standesamt-minden", reason="department_closed", topic=""))
        lab.request("1700000000.3", "callback|oops" + c.SPOOL_END)
        lab.request("1700000000.4", request_line("callback", MONDAY).removesuffix(c.SPOOL_END))  # still being written
        keeper = await started(lab)
        try:
            assert await keeper.take_requests(lab.now) == 2
            lab.request("1700000000.1", request_line("callback", MONDAY))  # delivered again: taken once
            assert await keeper.take_requests(lab.now) == 1
        finally:
            await keeper.close()
        store = lab.store()
        assert [p.id for p in store.pending()] == ["1700000000.1"]
        (ticket,) = store.tickets()
        assert (ticket.department, ticket.reason, ticket.number) == ("standesamt-minden", "department_closed", NUMBER)
        # the Standesamt promises 10 of its own service hours (08-12): Mon 10-12, Tue 08-12, Wed 08-12
        assert ticket.due == at("2026-11-25 12:00").timestamp()
        assert (lab.spool / "rejected" / "1700000000.3").exists()
        assert (lab.spool / c.SPOOL_REQUESTS / "1700000000.4").exists()  # not complete yet: left for the next round
        assert "request file" in caplog.text and "2 fields, expected 10" in caplog.text

    run(tmp_path, scenario)


def test_a_callback_waits_for_earlier_callers_then_is_originated_once(tmp_path: Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", request_line("callback", MONDAY - 60, joined=str(int(MONDAY - 120))))
        lab.ami.handlers["queuestatus"] = queue_status(members=1, waiting=[MONDAY - 200], now=MONDAY)  # joined before it
        keeper = await started(lab)
        try:
            await keeper.round()
            assert lab.originated == []  # a caller who joined earlier still waits
            lab.ami.handlers["queuestatus"] = queue_status(members=1, waiting=[MONDAY - 30], now=MONDAY)  # only a later one
            await keeper.round()
            await keeper.round()  # the callback is in progress: not again
        finally:
            await keeper.close()
        (originate,) = lab.originated
        assert originate["Channel"].endswith("@lotse-callback-queue/n") and originate["Context"] == "lotse-callback-dial"
        assert originate["Exten"] == originate["Channel"].split("/")[1].split("@")[0]
        row = lab.store().callback("1700000000.1")
        assert row is not None and (row["status"], row["attempts"], row["attempt_id"]) == ("dialling", 1, originate["Exten"])

    run(tmp_path, scenario)


def test_attempts_end_in_reached_or_minutes_later_or_a_ticket(tmp_path: Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", request_line("callback", MONDAY))
        lab.ami.handlers["queuestatus"] = queue_status(members=1, waiting=[], now=MONDAY)
        keeper = await started(lab)
        try:
            for attempt in range(1, 4):
                await keeper.round()
                row = lab.store().callback("1700000000.1")
                assert row is not None and row["status"] == "dialling" and row["attempts"] == attempt
                lab.result(row["attempt_id"], "NOANSWER")
                await keeper.round()
                row = lab.store().callback("1700000000.1")
                assert row is not None
                if attempt < 3:
                    assert (row["status"], row["not_before"]) == ("pending", lab.now + 600)  # 10 minutes apart
                    lab.now += 600
            assert row is not None and row["status"] == "ticket"
        finally:
            await keeper.close()
        (ticket,) = lab.store().tickets()
        assert (ticket.request, ticket.reason, ticket.status, ticket.number) == ("1700000000.1:callback", "callback_failed", "open", NUMBER)
        assert len(lab.originated) == 3

    run(tmp_path, scenario)


def test_a_restart_with_a_callback_in_progress_never_dials_it_twice(tmp_path: Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", request_line("callback", MONDAY))
        lab.ami.handlers["queuestatus"] = queue_status(members=2, waiting=[], now=MONDAY)
        first = await started(lab)
        await first.round()
        await first.close()  # lotse promises stops while the callback waits for an agent
        second = await started(lab)
        try:
            lab.now += 60
            await second.round()
            assert len(lab.originated) == 1  # still in progress: not originated again
            attempt = lab.originated[0]["Exten"]
            lab.result(attempt, "ANSWER")  # the dialplan left the result while lotse was away
            await second.round()
            await second.round()
        finally:
            await second.close()
        row = lab.store().callback("1700000000.1")
        assert row is not None and (row["status"], row["reached"], row["attempts"]) == ("reached", lab.now, 1)
        assert len(lab.originated) == 1

    run(tmp_path, scenario)


def test_an_attempt_that_found_no_agent_is_tried_again_without_counting(tmp_path: Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", request_line("callback", MONDAY))
        lab.ami.handlers["queuestatus"] = queue_status(members=1, waiting=[], now=MONDAY)
        keeper = await started(lab)
        try:
            await keeper.round()
            attempt = lab.originated[0]["Exten"]
            await lab.ami.event(Event="OriginateResponse", Response="Failure", Exten=attempt, Reason="0")
            for _ in range(50):
                row = lab.store().callback("1700000000.1")
                if row is not None and row["status"] == "pending":
                    break
                await asyncio.sleep(0.02)
        finally:
            await keeper.close()
        assert row is not None and (row["status"], row["attempts"], row["last_result"]) == ("pending", 0, "no_agent")

    run(tmp_path, scenario)


def test_numbers_of_closed_promises_are_blanked_after_the_retention_period(tmp_path: Path) -> None:
    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.5", request_line("ticket", MONDAY, department="standesamt-minden", reason="department_closed"))
        lab.settings = KeeperSettings(**{**lab.settings.__dict__, "retention_days": 30})
        keeper = await started(lab)
        try:
            await keeper.round()
            store = lab.store()
            (ticket,) = store.tickets()
            store.done(ticket.id, "standesamt", "zurückgerufen", lab.now)
            lab.now += 31 * 86400
            assert await keeper.purge(lab.now) == 1
            assert await keeper.purge(lab.now + 60) == 0  # once an hour
        finally:
            await keeper.close()
        (ticket,) = lab.store().tickets()
        assert (ticket.number, ticket.status) == ("", "done")

    run(tmp_path, scenario)
