"""A promises worker as its own process, for tests that kill it (tests/test_mail_once.py): the example center on
a spool and database, mail to a local SMTP server, its clock standing at a fixed time, no AMI (nothing to dial).

    python -m tests.mail_worker SPOOL DB_URL SMTP_PORT NOW
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from pbx.ami import AmiSettings
from promises.mail import Mailer
from promises.worker import Keeper, KeeperSettings
from tests.conftest import EXAMPLE


async def main(spool: Path, db: str, smtp_port: int, now: float) -> None:
    mailer = Mailer("127.0.0.1", smtp_port, sender="lotse@center.example", timeout=5)
    settings = KeeperSettings(config=EXAMPLE, db_url=db, spool=spool, ami=AmiSettings("127.0.0.1", 9, "lotse", "-"), mailer=mailer)
    keeper = Keeper(settings, clock=lambda: now)
    await keeper.start()
    try:
        await asyncio.Event().wait()  # until SIGTERM or SIGKILL
    finally:
        await keeper.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
