"""lotse promises towards the departments: tickets' e-mails and message batches through a real SMTP server (aiosmtpd),
and the tickets' HTTP API. What the keeper's tests share: tests/keeper_kit.py."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from pbx import contract as c
from promises.intakes import last_batch
from promises.mail import Mailer
from promises.tokens import TokenError, Tokens, read_tokens
from promises.worker import KeeperSettings
from tests.conftest import BERLIN, at
from tests.keeper_kit import MONDAY, Lab, request_line, run, started


class Inbox:
    """The handler of the SMTP server: keeps each mail it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's name
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for the SMTP server, for the API)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.contextmanager
def smtp_server(inbox: Inbox | None = None) -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free port, and the inbox of what it received (``inbox``: a handler of the test's own)."""
    inbox = inbox or Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        yield inbox, port
    finally:
        smtp.stop()


def test_departments_are_mailed_once_per_ticket_and_reminded_before_it_is_due(tmp_path: Path) -> None:
    with smtp_server() as (inbox, port):
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
    spool = tmp_path / "spool"
    spool_message(spool, "1796100000.1", at("2026-11-23 07:10").timestamp(), "Schulnummer=123456")
    spool_message(spool, "1796100000.2", at("2026-11-23 08:40").timestamp(), "Schulnummer=654321")  # after the 08:30 batch
    spool_message(spool, "1796100000.3", at("2026-11-23 07:20").timestamp(), "Schulnummer=1", done=False)  # still recording
    with smtp_server() as (inbox, port):

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


def http(method: str, url: str, token: str | None = None, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_tickets_api_needs_a_token_and_names_who_closed(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.7", request_line("ticket", MONDAY, department="standesamt-minden", reason="department_closed"))
        lab.settings = KeeperSettings(**{**lab.settings.__dict__, "api": ("127.0.0.1", port)})
        store = lab.store()
        token = Tokens(store.engine).add("standesamt", "standesamt-minden", lab.now)[1]
        store.close()
        keeper = await started(lab)
        try:
            await keeper.round()
            assert await asyncio.to_thread(http, "GET", f"{base}/api/tickets") == (
                401,
                {"error": "missing, unknown or revoked token (Authorization: Bearer <token>)"},
            )
            status, found = await asyncio.to_thread(http, "GET", f"{base}/api/tickets?status=open", token)
            assert status == 200 and [t["department"] for t in found] == ["standesamt-minden"]
            ticket = found[0]["id"]
            assert (await asyncio.to_thread(http, "GET", f"{base}/api/tickets?status=late", token))[0] == 400
            status, done = await asyncio.to_thread(http, "POST", f"{base}/api/tickets/{ticket}/done", token, {"note": "zurückgerufen"})
            assert status == 200 and done["status"] == "done"
            status, again = await asyncio.to_thread(http, "POST", f"{base}/api/tickets/{ticket}/claim", token, {})
            assert (status, again) == (409, {"error": f"ticket {ticket} is done by standesamt: it cannot be claimed"})
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
