"""What the keeper's tests share: a keeper against a fake AMI on a temporary spool and SQLite, the requests the dialplan leaves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pbx import contract as c
from pbx.ami import AmiSettings
from promises.mail import Mailer
from promises.store import Promises
from promises.worker import Keeper, KeeperSettings
from tests.conftest import EXAMPLE, at
from tests.fakes import FakeAmi

MONDAY = at("2026-11-23 10:00").timestamp()
NUMBER = "+495714711"


def request_line(kind: str, created: float, **fields: str) -> str:
    values = {"tenant": "minden", "entry": "own", "topic": "ausweis", "queue": "buergerservice", "department": "", "reason": "overflow"}
    values |= fields
    joined = fields.get("joined", str(int(created)))
    order = ("tenant", "entry", "topic", "queue", "department", "reason")
    return "|".join([kind, str(int(created)), *(values[k] for k in order), fields.get("number", NUMBER), joined]) + c.SPOOL_END


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
