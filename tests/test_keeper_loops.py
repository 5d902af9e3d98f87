"""lotse promises' work runs in loops of its own: taking the spool's requests, dialling callbacks, mailing tickets and
delivering message batches. A mail server that takes its time holds none of the others back (a real SMTP server,
aiosmtpd, whose DATA waits until the test lets it answer; a fake AMI)."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from promises.mail import Mailer
from tests.keeper_kit import MONDAY, Lab, request_line, run
from tests.test_keeper import queue_status
from tests.test_keeper_departments import Inbox, smtp_server


class SlowInbox(Inbox):
    """A mail server that, at DATA, waits until it is let go (``answer``) before it accepts the message."""

    def __init__(self) -> None:
        super().__init__()
        self.data = threading.Event()  # a message is being sent
        self.answer = threading.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's name
        self.data.set()
        await asyncio.to_thread(self.answer.wait, 30)
        return await super().handle_DATA(server, session, envelope)


def test_a_callback_is_dialled_while_a_ticket_notice_waits_for_the_mail_server(tmp_path: Path) -> None:
    inbox = SlowInbox()
    with smtp_server(inbox) as (_, port):

        async def scenario(lab: Lab) -> None:
            lab.settings = replace(lab.settings, interval=0.05)
            lab.ami.handlers["queuestatus"] = queue_status(members=1, waiting=[], now=MONDAY)
            dialled = asyncio.Event()
            answer = lab.ami.handlers["originate"]

            def originate(action: dict[str, str]) -> list[dict[str, str | list[str]]]:
                dialled.set()
                return answer(action)

            lab.ami.handlers["originate"] = originate
            lab.request("1700000000.9", request_line("ticket", MONDAY, department="standesamt-minden", reason="department_unanswered"))
            keeper = lab.keeper()
            await keeper.start()
            try:
                assert await asyncio.to_thread(inbox.data.wait, 10)  # the notice is on its way, the server silent
                lab.request("1700000000.1", request_line("callback", MONDAY))
                await asyncio.wait_for(dialled.wait(), 10)
                assert inbox.messages == [] and not inbox.answer.is_set()  # dialled while the mail still waits
                inbox.answer.set()
                while not lab.store().tickets()[0].notified:
                    await asyncio.sleep(0.02)
            finally:
                inbox.answer.set()
                await keeper.close()
            assert len(inbox.messages) == 1 and len(lab.originated) == 1

        run(tmp_path, scenario, Mailer("127.0.0.1", port, sender="lotse@center.example", timeout=30))
