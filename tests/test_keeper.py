"""lotse promises in-process: the spool, a fake AMI (QueueStatus, Originate), SQLite and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from pbx import contract as c
from pbx.ami import AmiSettings
from promises.api import TokenError, read_tokens
from promises.intakes import last_batch
from promises.mail import Mailer
from promises.store import Promises
from promises.worker import Keeper, KeeperSettings
from tests.conftest import BERLIN, EXAMPLE, at
from tests.fakes import FakeAmi, event_list

MONDAY = at("2026-11-23 10:00").timestamp()
NUMBER = "+495714711"


def request_line(kind: str, created: float, **fields: str) -> str:
    values = {"tenant": "minden", "entry": "own", "topic": "ausweis", "queue": "buergerservice", "department": "", "reason": "overflow"}
    values |= fields
    joined = fields.get("joined", str(int(created)))
    order = ("tenant", "entry", "topic", "queue", "department", "reason")
    return "|".join([kind, str(int(created)), *(values[k] for k in order), fields.get("number", NUMBER), joined]) + c.SPOOL_END


def queue_status(members: int, waiting: list[float], now: float) -> Callable[[dict[str, str]], list[dict[str, Any]]]:
    events: list[dict[str, Any]] = [{"Event": "QueueParams", "Queue": "buergerservice"}]
    events += [{"Event": "QueueMember", "Name": f"a{n}", "Status": "1", "Paused": "0", "InCall": "0"} for n in range(members)]
    events += [
        {"Event": "QueueEntry", "Channel": f"Local/c{n}@lotse-lab-inbound-0;2", "Wait": str(int(now - j))} for n, j in enumerate(waiting)
    ]
    return event_list("QueueStatus", events)


class Lab:
    """A keeper against a fake AMI, on a temporary spool and database."""

    def __init__(self, tmp_path: Path, ami: FakeAmi, port: int, mailer: Mailer | None = None) -> None:
        self.spool = tmp_path / "spool"
        self.db = f"sqlite:///{tmp_path / 'promises.db'}"
        self.settings = KeeperSettings(
            config=EXAMPLE, db_url=self.db, spool=self.spool, ami=AmiSettings("127.0.0.1", port, "lotse", "s3cret"), mailer=mailer
        )
        self.now = MONDAY
        self.ami = ami
        self.originated: list[dict[str, str]] = []
        ami.handlers["originate"] = self._originate

    def _originate(self, action: dict[str, str]) -> list[dict[str, Any]]:
        self.originated.append(action)
        return [{"Response": "Success", "Message": "Originate successfully queued"}]

    def keeper(self) -> Keeper:
        return Keeper(self.settings, clock=lambda: self.now)

    def request(self, name: str, line: str) -> None:
        folder = self.spool / c.SPOOL_REQUESTS
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(line, encoding="utf-8")

    def result(self, attempt: str, status: str) -> None:
        (self.spool / c.SPOOL_RESULTS / attempt).write_text(f"{status}|{int(self.now)}{c.SPOOL_END}", encoding="utf-8")

    def store(self) -> Promises:
        return Promises.open(self.db)


def run(tmp_path: Path, scenario: Callable[[Lab], Awaitable[None]], mailer: Mailer | None = None) -> None:
    async def main() -> None:
        ami = FakeAmi()
        port = await ami.start()
        try:
            await scenario(Lab(tmp_path, ami, port, mailer))
        finally:
            await ami.stop()

    asyncio.run(main())


async def started(lab: Lab) -> Keeper:
    keeper = lab.keeper()
    await keeper.start(rounds=False)
    await asyncio.wait_for(keeper.link.ready.wait(), 5)
    return keeper


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


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's name
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def test_departments_are_mailed_once_per_ticket_and_reminded_before_it_is_due(tmp_path: Path) -> None:
    inbox = Inbox()
    with socket.socket() as probe:  # a free port for the SMTP server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        mailer = Mailer("127.0.0.1", port, sender="lotse@center.example")

        async def scenario(lab: Lab) -> None:
            line = request_line("ticket", MONDAY, department="standesamt-minden", reason="department_unanswered")
            lab.request("1700000000.9", line)
            keeper = await started(lab)
            try:
                await keeper.round()
                await keeper.round()
                assert len(inbox.messages) == 1  # the notice, once
                lab.now = at("2026-11-25 10:30").timestamp()  # 1.5 of the 10 service hours left (due Wed 12:00)
                await keeper.round()
                await keeper.round()
            finally:
                await keeper.close()

        run(tmp_path, scenario, mailer)
    finally:
        smtp.stop()
    notice, remind = inbox.messages
    assert notice["To"] == "standesamt@minden.example"
    assert notice["Subject"] == "Rückmeldung 1 fällig bis 25.11.2026 12:00"
    body = notice.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Verwaltung:  Stadt Minden" in body and "Rückruf an:  05714711" in body and "Abteilung hat nicht angenommen" in body
    assert remind["Subject"].startswith("Erinnerung: Rückmeldung 1")


def test_mail_down_is_retried_and_nothing_is_marked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.9", request_line("ticket", MONDAY, department="standesamt-minden", reason="department_closed"))
        keeper = await started(lab)
        try:
            await keeper.round()
        finally:
            await keeper.close()
        (ticket,) = lab.store().tickets()
        assert not ticket.notified

    run(tmp_path, scenario, Mailer("127.0.0.1", 9, timeout=1))  # nothing listens on port 9
    assert "mail to standesamt@minden.example not sent, trying again next round" in caplog.text


def test_the_last_batch_is_the_latest_set_time_before_now() -> None:
    times = (8 * 3600 + 1800, 10 * 3600 + 1800, 12 * 3600 + 1800)
    assert last_batch(times, at("2026-11-23 10:29").timestamp(), BERLIN) == at("2026-11-23 08:30").timestamp()
    assert last_batch(times, at("2026-11-23 10:30").timestamp(), BERLIN) == at("2026-11-23 10:30").timestamp()
    assert last_batch(times, at("2026-11-23 07:00").timestamp(), BERLIN) == at("2026-11-22 12:30").timestamp()  # yesterday's last


def spool_message(spool: Path, uniqueid: str, recorded: float, fields: str, done: bool = True) -> None:
    """A message as the dialplan leaves it: .msg before the recording, .wav, .done once the caller has gone."""
    folder = spool / c.SPOOL_MESSAGES
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{uniqueid}.msg").write_text(f"krankmeldung|{int(recorded)}|05714711|{fields}{c.SPOOL_END}", encoding="utf-8")
    (folder / f"{uniqueid}.wav").write_bytes(b"RIFF" + bytes(40) + bytes(16000 * 7))  # 7 s
    if done:
        (folder / f"{uniqueid}.done").write_text(f"DTMF|{int(recorded) + 8}{c.SPOOL_END}", encoding="utf-8")


def test_messages_are_delivered_in_their_batch_once_with_the_recordings(tmp_path: Path) -> None:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    spool = tmp_path / "spool"
    spool_message(spool, "1796100000.1", at("2026-11-23 07:10").timestamp(), "Schulnummer=123456")
    spool_message(spool, "1796100000.2", at("2026-11-23 08:40").timestamp(), "Schulnummer=654321")  # after the 08:30 batch
    spool_message(spool, "1796100000.3", at("2026-11-23 07:20").timestamp(), "Schulnummer=1", done=False)  # still recording
    try:

        async def scenario(lab: Lab) -> None:
            lab.now = at("2026-11-23 09:00").timestamp()
            keeper = await started(lab)
            try:
                assert await keeper.deliver(lab.now) == 1
                assert await keeper.deliver(lab.now) == 0  # delivered once
                lab.now = at("2026-11-23 10:31").timestamp()
                assert await keeper.deliver(lab.now) == 1  # the 10:30 batch: the second message only
            finally:
                await keeper.close()

        run(tmp_path, scenario, Mailer("127.0.0.1", port, sender="lotse@center.example"))
    finally:
        smtp.stop()
    first, second = inbox.messages
    assert first["To"] == "schulamt@minden.example"
    assert first["Subject"] == "Krankmeldungen Schulen: 1 Nachricht(en) bis 23.11.2026 08:30"
    body = _text(first)
    assert "Anrufer 05714711, 7 s; Schulnummer=123456" in body
    assert [part.get_filename() for part in first.iter_attachments()] == ["nachricht-1.wav"]
    assert "Schulnummer=654321" in _text(second)


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


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


def http(method: str, url: str, token: str | None = None, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_tickets_api_needs_a_token_and_names_who_closed(tmp_path: Path) -> None:
    token = "t0k3n-for-the-standesamt-2026"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"

    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.7", request_line("ticket", MONDAY, department="standesamt-minden", reason="department_closed"))
        lab.settings = KeeperSettings(**{**lab.settings.__dict__, "api": ("127.0.0.1", port), "api_tokens": {token: "standesamt"}})
        keeper = await started(lab)
        try:
            await keeper.round()
            assert await asyncio.to_thread(http, "GET", f"{base}/api/tickets") == (
                401,
                {"error": "missing or unknown token (Authorization: Bearer <token>)"},
            )
            status, found = await asyncio.to_thread(http, "GET", f"{base}/api/tickets?status=open", token)
            assert status == 200 and [t["department"] for t in found] == ["standesamt-minden"]
            ticket = found[0]["id"]
            assert (await asyncio.to_thread(http, "GET", f"{base}/api/tickets?status=late", token))[0] == 400
            status, done = await asyncio.to_thread(http, "POST", f"{base}/api/tickets/{ticket}/done", token, {"note": "zurückgerufen"})
            assert status == 200 and done["status"] == "done"
            status, again = await asyncio.to_thread(http, "POST", f"{base}/api/tickets/{ticket}/claim", token, {})
            assert (status, again) == (409, {"error": f"ticket {ticket} is done: it cannot be claimed"})
            assert (await asyncio.to_thread(http, "GET", f"{base}/api/tickets/999", token))[0] == 404
            status, shown = await asyncio.to_thread(http, "GET", f"{base}/api/tickets/{ticket}", token)
            assert [h[1:3] for h in shown["history"]] == [["opened", "lotse"], ["done", "standesamt"]]
            assert (await asyncio.to_thread(http, "GET", f"{base}/health"))[1]["rounds"] == 1
        finally:
            await keeper.close()

    run(tmp_path, scenario)


def test_a_tokens_file_with_a_short_token_or_a_bad_line_is_refused_with_the_line(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# clients of the API\nstandesamt 0123456789abcdef0123456789\nwebapp short\n", encoding="utf-8")
    with pytest.raises(TokenError, match=r"tokens:3: the token of 'webapp' has 5 characters; use at least 24"):
        read_tokens(path)
    path.write_text("standesamt\n", encoding="utf-8")
    with pytest.raises(TokenError, match=r"tokens:1: expected 'name token', got 1 words"):
        read_tokens(path)
