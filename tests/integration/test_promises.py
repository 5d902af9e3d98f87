"""Promises through the real Asterisk: a queue callback that keeps the caller's place, a department's ticket."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from promises.store import Promises, Ticket
from tests.integration.conftest import Lab
from tests.integration.lab import LOTSE, PROMPTS_IN_ASTERISK, ROOT, Ami, lotse_serve, new_caller, of

EXAMPLE = ROOT / "config"
AGENTS = ("Local/anna@lotse-lab-agents/n", "Local/ben@lotse-lab-agents/n")  # the lab's, talk 8 s: paused for the test
LONG = ("Local/lena@lotse-lab-long-agents/n", "Local/lars@lotse-lab-long-agents/n")  # talk 40 s: whisper and dial fit in
AMI_SECRET = "lab-ami-2026-secret"  # asterisk/secrets.example.yaml


@contextmanager
def lotse_promises(
    asterisk: Lab, db: str, log: Path, config: Path = EXAMPLE, extra: Sequence[str] = ()
) -> Iterator[subprocess.Popen[bytes]]:
    spool = asterisk.root / "var/spool/lotse-lab/promises"
    argv = [str(LOTSE), "promises", "--config", str(config), "--db", db, "--spool", str(spool), "--prompts", PROMPTS_IN_ASTERISK]
    argv += ["--listen", "127.0.0.1:9581", "--callback-wait", "120", *extra]
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "LOTSE_AMI_SECRET": AMI_SECRET})
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


@contextmanager
def smtp_server(folder: Path) -> Iterator[int]:
    """A real SMTP server (aiosmtpd) that keeps each mail as a file in ``folder``."""

    class Keep:
        async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's name
            assert isinstance(envelope.content, bytes)
            (folder / f"{len(list(folder.iterdir())):04d}.eml").write_bytes(envelope.content)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def wait_until(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout} s")


async def pause(ami: Ami, paused: bool, agents: tuple[str, ...] = LONG) -> None:
    for agent in agents:
        action = {"Action": "QueuePause", "Queue": "buergerservice", "Interface": agent, "Paused": str(paused).lower()}
        await ami.manager.send_action(action)


async def long_agents(ami: Ami, action: str) -> None:
    for agent in LONG:
        fields = {"Action": action, "Queue": "buergerservice", "Interface": agent}
        await ami.manager.send_action({**fields, "Paused": "true"} if action == "QueueAdd" else fields, as_list=False)


def test_a_waiting_caller_presses_the_key_keeps_the_place_and_is_called_back(asterisk: Lab, serve_log: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'promises.db'}"
    earlier, later = new_caller("0571"), new_caller("0571")

    async def scenario() -> None:
        async with Ami() as ami:
            await pause(ami, True, AGENTS)  # the lab's agents stay paused; the long-talking ones join paused: both callers wait
            await long_agents(ami, "QueueAdd")
            try:
                await ami.call("0571890", earlier, "1")
                await ami.wait_for("the earlier caller's join", of(earlier, "QueueCallerJoin", Queue="buergerservice"))
                await ami.call("0571890", later, "15")  # Personalausweis, then the callback key while waiting
                await ami.wait_for("the later caller's join", of(later, "QueueCallerJoin", Queue="buergerservice"))
                await ami.wait_for("the request", of(later, "UserEvent", UserEvent="LotsePromise"), 90)
                await ami.wait_for("the later caller's hang-up", of(later, "Hangup"), 30)
                with lotse_promises(asterisk, db, tmp_path / "promises.log"):
                    wait_until("the request taken", lambda: _callback(db, later) is not None, 20)
                    await asyncio.sleep(3)
                    assert (_callback(db, later) or {}).get("status") == "pending"  # the earlier caller still waits
                    await pause(ami, False)
                    first = await ami.wait_for("the earlier caller answered", of(earlier, "AgentConnect"), 60)
                    callback = await ami.wait_for("the callback's agent", _callback_connect, 90)
                    assert float(callback["_arrived"]) > float(first["_arrived"])  # it did not overtake the earlier caller
                    label = "[Stadt Minden] Rückruf Personalausweis und Reisepass"  # heard and shown before the caller is dialled
                    await ami.wait_for("the agent's whisper", lambda e: e.get("UserEvent") == "LotseWhisper" and e.get("Label") == label)
                    number = "+49" + later[1:]
                    dialled = await ami.wait_for(
                        "the caller dialled back", lambda e: e.get("Event") == "DialEnd" and number in e.get("DestChannel", ""), 60
                    )
                    assert dialled["DialStatus"] == "ANSWER"
                    wait_until("the callback reached", lambda: (_callback(db, later) or {}).get("status") == "reached", 60)
            finally:
                await long_agents(ami, "QueueRemove")
                await pause(ami, False, AGENTS)
        row = _callback(db, later)
        assert row is not None and (row["attempts"], row["number"], row["queue"], row["tenant"]) == (1, number, "buergerservice", "minden")
        assert row["joined"] <= row["created"]  # the place it kept: when it joined the queue

    with lotse_serve(EXAMPLE, "2026-11-23 10:00", serve_log):
        asyncio.run(scenario())


def test_a_closed_department_becomes_a_ticket_due_in_its_service_hours_and_is_closed(
    asterisk: Lab, serve_log: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'promises.db'}"
    caller = new_caller("0571")

    async def scenario() -> None:
        async with Ami() as ami:
            await ami.call("0571890", caller, "3")  # the Standesamt, closed on Monday afternoons
            decision = await ami.decision(caller)
            assert (decision["LOTSE_OUTCOME"], decision["LOTSE_REASON"]) == ("callback", "department_closed")
            assert (decision["LOTSE_PROMISE"], decision["LOTSE_CALLBACK_NUMBER"]) == ("ticket", "+49" + caller[1:])
            await ami.wait_for("the request", of(caller, "UserEvent", UserEvent="LotsePromise"), 60)

    with lotse_serve(EXAMPLE, "2026-11-23 13:00", serve_log):
        asyncio.run(scenario())
    with lotse_promises(asterisk, db, tmp_path / "promises.log"):
        wait_until("the ticket", lambda: bool(_tickets(db)), 20)
    (ticket,) = _tickets(db)
    assert (ticket.department, ticket.reason, ticket.status) == ("standesamt-minden", "department_closed", "open")
    # created Monday 13:00 (real time, not the pretended one): due after 10 of the Standesamt's service hours
    out = subprocess.run(
        [str(LOTSE), "tickets", "done", str(ticket.id), "--config", str(EXAMPLE), "--db", db, "--by", "standesamt", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    closed = json.loads(out.stdout)
    assert closed["status"] == "done" and [h[1] for h in closed["history"]] == ["opened", "done"]


def _callback_connect(event: dict[str, str]) -> bool:
    return event.get("Event") == "AgentConnect" and "lotse-callback-queue" in event.get("Channel", "")


def _callback(db: str, request: str) -> dict[str, Any] | None:
    store = Promises.open(db)
    try:
        return next((row for row in store.all_callbacks(0) if request[1:] in str(row["number"])), None)
    finally:
        store.close()


def _tickets(db: str) -> list[Ticket]:
    store = Promises.open(db)
    try:
        return store.tickets()
    finally:
        store.close()


def test_a_message_with_its_keyed_in_field_is_delivered_in_the_next_batch(asterisk: Lab, serve_log: Path, tmp_path: Path) -> None:
    caller = new_caller("0571")
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)
    every_minute = ", ".join(f'"{h:02d}:{m:02d}"' for h in range(24) for m in range(60))  # the next batch within a minute
    center = config / "center.yaml"
    center.write_text(center.read_text(encoding="utf-8").replace('["08:30", "10:30", "12:30"]', f"[{every_minute}]"), encoding="utf-8")
    minden = config / "tenants/minden.yaml"  # the line open all day, so that every minute's batch may carry a message
    hours = 'mon-fri: "07:00-12:00"  # opens before the main number (07:30)'
    minden.write_text(minden.read_text(encoding="utf-8").replace(hours, 'mon-sun: "00:00-24:00"'), encoding="utf-8")
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    async def scenario() -> None:
        async with Ami() as ami:
            await ami.call("057189444", caller, "123456#", context="lotse-lab-message-caller")  # Krankmeldung Schulen
            decision = await ami.decision(caller)
            assert (decision["LOTSE_OUTCOME"], decision["LOTSE_MAILBOX"], decision["LOTSE_ENTRY"]) == (
                "voicemail",
                "schulen@lotse",
                "schulen",
            )
            assert decision["LOTSE_MESSAGE_FIELDS"] == "Schulnummer=123456"
            await ami.wait_for("the caller's hang-up", of(caller, "Hangup"), 60)

    with lotse_serve(EXAMPLE, "2026-11-23 07:15", serve_log):
        asyncio.run(scenario())
    messages = asterisk.root / "var/spool/lotse-lab/promises/messages"
    assert any(caller[1:] in p.read_text() for p in messages.glob("*.msg"))
    with (
        smtp_server(inbox) as port,
        lotse_promises(
            asterisk,
            f"sqlite:///{tmp_path / 'p.db'}",
            tmp_path / "promises.log",
            config,
            ["--smtp", f"127.0.0.1:{port}"],
        ),
    ):
        wait_until("the batch delivered", lambda: any(caller[1:] in p.read_text(errors="replace") for p in inbox.iterdir()), 90)
    (mail,) = [p for p in inbox.iterdir() if caller[1:] in p.read_text(errors="replace")]
    text = mail.read_text(errors="replace")
    assert "To: schulamt@minden.example" in text and "Schulnummer=123456" in text and 'filename="nachricht-' in text
