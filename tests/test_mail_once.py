"""A ticket's notice is mailed once, also when the worker is killed (SIGKILL) in the middle of sending it: a real SMTP
server (aiosmtpd) kills the worker's process at a step of the SMTP dialogue, a second worker starts on the same
database, and the mails the server received are counted. The worker runs as a child process (tests/mail_worker.py)
so that the kill is a real one; the restarted worker runs in the test's process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from promises.mail import Mailer
from promises.store import Promises
from tests.conftest import ROOT, at
from tests.keeper_kit import MONDAY, Lab, request_line, run, started
from tests.test_keeper_departments import Inbox, smtp_server, spool_message


class Killer(Inbox):
    """An inbox that SIGKILLs the worker once, at one step of its first mail: when it sends RCPT, or when the server
    has accepted the whole message (DATA), before the worker heard the 250."""

    def __init__(self, step: str) -> None:
        super().__init__()
        self.step = step
        self.victim: subprocess.Popen[bytes] | None = None

    def _kill(self, step: str) -> bool:
        if self.step != step or self.victim is None:
            return False
        os.kill(self.victim.pid, signal.SIGKILL)
        self.victim.wait()
        self.victim = None
        return True

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]) -> str:  # noqa: N802
        if self._kill("rcpt"):
            return "421 gone"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's name
        await super().handle_DATA(server, session, envelope)
        self._kill("data")  # the server has the message; the worker dies before it reads the 250
        return "250 OK: queued as 4711"


def _worker(spool: Path, db: str, smtp_port: int, now: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.mail_worker", str(spool), db, str(smtp_port), str(now)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _until(check: object, seconds: float = 20.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + seconds  # a deadline for a failing test, not a wait for a race
    while not check():
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.05)


@pytest.mark.parametrize("step", ["rcpt", "data"])
def test_a_worker_killed_while_it_mails_a_notice_mails_it_once_after_its_restart(
    tmp_path: Path, step: str, caplog: pytest.LogCaptureFixture
) -> None:
    spool, db = tmp_path / "spool", f"sqlite:///{tmp_path / 'promises.db'}"
    (spool / "requests").mkdir(parents=True)
    (spool / "requests" / "1700000000.9").write_text(
        request_line("ticket", MONDAY, department="standesamt-minden", reason="department_unanswered"), encoding="utf-8"
    )
    Promises.open(db).close()  # the schema, made here: the child starts sooner
    killer = Killer(step)
    with smtp_server(killer) as (inbox, port):
        killer.victim = first = _worker(spool, db, port, MONDAY)
        _until(lambda: first.poll() is not None)  # killed by the server, at its step
        assert first.returncode == -signal.SIGKILL

        async def restarted(lab: Lab) -> None:  # in this process, the mailing lease of the dead one expired
            lab.now = MONDAY + 60
            keeper = await started(lab)
            try:
                await keeper.round()
                await keeper.round()
            finally:
                await keeper.close()

        run(tmp_path, restarted, Mailer("127.0.0.1", port, sender="lotse@center.example"))
    notices = [m for m in inbox.messages if m["Subject"].startswith("Rückmeldung 1 ")]
    assert len(notices) == 1, [m["Message-ID"] for m in notices]
    assert notices[0]["Message-ID"].startswith("<lotse.ticket-1-notified-1700000000.9@center.example>")
    (ticket,) = Promises.open(db).tickets()
    assert ticket.notified
    unconfirmed = "(Message-ID <lotse.ticket-1-notified-1700000000.9@center.example>) was handed to the mail server but"
    assert (unconfirmed in caplog.text) == (step == "data")  # at RCPT the server had nothing: simply sent again


def test_a_batch_handed_over_by_a_killed_worker_is_not_mailed_again_in_the_next_batch(tmp_path: Path) -> None:
    spool, db = tmp_path / "spool", f"sqlite:///{tmp_path / 'promises.db'}"
    spool_message(spool, "1796100000.1", at("2026-11-23 07:10").timestamp(), "Schulnummer=123456")
    Promises.open(db).close()
    killer = Killer("data")
    with smtp_server(killer) as (inbox, port):
        killer.victim = first = _worker(spool, db, port, at("2026-11-23 09:00").timestamp())  # the 08:30 batch
        _until(lambda: first.poll() is not None)
        spool_message(spool, "1796100000.2", at("2026-11-23 09:40").timestamp(), "Schulnummer=654321")

        async def restarted(lab: Lab) -> None:
            lab.now = at("2026-11-23 10:31").timestamp()  # the 10:30 batch: the second message, not the first again
            keeper = await started(lab)
            try:
                await keeper.round()
                await keeper.round()
            finally:
                await keeper.close()

        run(tmp_path, restarted, Mailer("127.0.0.1", port, sender="lotse@center.example"))
    assert [m["Subject"] for m in inbox.messages] == [
        "Krankmeldungen Schulen: 1 Nachricht(en) bis 23.11.2026 08:30",
        "Krankmeldungen Schulen: 1 Nachricht(en) bis 23.11.2026 10:30",
    ]
    assert "Schulnummer=654321" in inbox.messages[1].get_body().get_content()  # type: ignore[union-attr]
    store = Promises.open(db)
    assert store.delivered("krankmeldung", "schulamt@minden.example") == {"1796100000.1", "1796100000.2"}
    store.close()
