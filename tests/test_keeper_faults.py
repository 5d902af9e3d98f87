"""lotse promises under faults: its database down for a minute (an engine on a closed port in-process, the real
PostgreSQL behind a proxy that is cut and restored), a full disk for the spool (ENOSPC faked in-process). Each
round fails cleanly, /health says why, and no request is lost: it stays in the spool until the database has it."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from pbx import contract as c
from promises import outage
from promises.worker import Keeper, KeeperSettings
from runtime.promises import health
from tests.conftest import EXAMPLE
from tests.keeper_kit import MONDAY, Lab, request_line, run, started
from tests.proxy import Proxy
from tests.test_inbox import exported


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def database_down(keeper: Keeper) -> AsyncIterator[None]:
    """The keeper's store and leases on a PostgreSQL that is not there (a closed port), then on their own again."""
    assert keeper.store is not None and keeper.dialling is not None and keeper.mailing is not None
    real = keeper.store.engine
    gone = create_engine(f"postgresql+psycopg://lotse@127.0.0.1:{closed_port()}/lotse?connect_timeout=2")
    keeper.store.engine = keeper.dialling.engine = keeper.mailing.engine = gone
    try:
        yield
    finally:
        keeper.store.engine = keeper.dialling.engine = keeper.mailing.engine = real
        gone.dispose()


def outage_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "database" in r.getMessage()]


async def a_minute_without(lab: Lab, keeper: Keeper, cut: contextlib.AbstractAsyncContextManager[Any]) -> tuple[dict[str, Any], ...]:
    """61 rounds a second apart with the database cut, a request left meanwhile, then one round with it back."""
    lab.request("1700000000.1", request_line("callback", MONDAY))
    async with cut:
        for second in range(61):
            lab.now = MONDAY + second
            await keeper.round()
            if second == 30:
                lab.request("1700000000.2", request_line("ticket", lab.now, department="standesamt-minden", reason="department_closed"))
        down = health(keeper, lab.now)
        spooled = sorted(p.name for p in (lab.spool / c.SPOOL_REQUESTS).iterdir())
        metrics = exported(keeper)  # /metrics still answers
    lab.now += 1
    await keeper.round()
    return down, {"spooled": spooled, "metrics": metrics}, health(keeper, lab.now)


def check_the_minute(lab: Lab, caplog: pytest.LogCaptureFixture, results: tuple[dict[str, Any], ...]) -> None:
    down, during, up = results
    assert down["database"] == "down"
    assert any(p.startswith("database unreachable for 60 s") and "requests wait in the spool" in p for p in down["problems"])
    assert during["spooled"] == ["1700000000.1", "1700000000.2"]  # nothing taken, nothing deleted
    assert "lotse_promises_db_up 0.0" in during["metrics"] and "lotse_promises_ami_up 1.0" in during["metrics"]
    assert up["database"] == "up" and not [p for p in up["problems"] if "database" in p]
    assert not (lab.spool / c.SPOOL_REQUESTS).exists() or not list((lab.spool / c.SPOOL_REQUESTS).iterdir())
    store = lab.store()
    try:
        assert [p.id for p in store.pending()] == ["1700000000.1"] and [t.request for t in store.tickets()] == ["1700000000.2"]
    finally:
        store.close()
    lines = outage_log(caplog)
    assert len(lines) == 2 and lines[0].startswith("database unreachable") and lines[1] == "database back after 61 s"
    assert not [r for r in caplog.records if r.exc_info], "no traceback"


def test_with_its_database_down_for_a_minute_each_round_fails_cleanly_health_says_so_and_nothing_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario(lab: Lab) -> None:
        keeper = await started(lab)
        try:
            results = await a_minute_without(lab, keeper, database_down(keeper))
        finally:
            await keeper.close()
        check_the_minute(lab, caplog, results)

    caplog.set_level(logging.INFO, "lotse.promises")
    run(tmp_path, scenario)


@pytest.mark.services
def test_the_real_postgresql_cut_for_a_minute_and_back(tmp_path: Path, caplog: pytest.LogCaptureFixture, postgres_db: str) -> None:
    """The same minute against the real PostgreSQL: the proxy between refuses and drops every connection, then lets them through."""

    async def scenario(lab: Lab) -> None:
        target = urlsplit(postgres_db)
        proxy = Proxy(target.hostname or "127.0.0.1", target.port or 5432)
        await proxy.start()
        netloc = f"{target.username}@127.0.0.1:{proxy.port}"
        lab.settings = replace(lab.settings, db_url=urlunsplit(target._replace(netloc=netloc)))
        lab.db = postgres_db  # the test's own look at the rows goes around the proxy
        keeper = await started(lab)
        try:
            results = await a_minute_without(lab, keeper, proxy.cut())
        finally:
            await keeper.close()
            await proxy.stop()
        check_the_minute(lab, caplog, results)

    caplog.set_level(logging.INFO, "lotse.promises")
    run(tmp_path, scenario)


def test_a_full_disk_for_the_spool_holds_back_no_other_request_and_is_reported_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC for every move into rejected/ and every file written there, until the disk has room again."""
    full = [True]
    real_rename, real_write = os.rename, Path.write_text

    def rename(source: Any, target: Any) -> None:
        if full[0] and "rejected" in str(target):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_rename(source, target)

    def write_text(self: Path, *args: Any, **kwargs: Any) -> int:
        if full[0] and "rejected" in str(self):
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write(self, *args, **kwargs)

    async def scenario(lab: Lab) -> None:
        lab.request("1700000000.1", "callback|oops" + c.SPOOL_END)
        lab.request("1700000000.2", request_line("callback", MONDAY))
        keeper = await started(lab)
        monkeypatch.setattr(os, "rename", rename)
        monkeypatch.setattr(Path, "write_text", write_text)
        try:
            assert await keeper.take_requests(lab.now) == 1
            assert await keeper.take_requests(lab.now + 1) == 0
            lines = [r.getMessage() for r in caplog.records if "1700000000.1" in r.getMessage()]
            assert (lab.spool / c.SPOOL_REQUESTS / "1700000000.1").exists()
            full[0] = False
            assert await keeper.take_requests(lab.now + 2) == 0
        finally:
            monkeypatch.undo()
            await keeper.close()
        assert len(lines) == 2 and "set aside" in lines[0] and "cannot be moved" in lines[1] and "No space left" in lines[1]
        assert (lab.spool / "rejected" / "1700000000.1").exists() and (lab.spool / "rejected" / "1700000000.1.why").exists()
        assert [p.id for p in lab.store().pending()] == ["1700000000.2"]

    run(tmp_path, scenario)


def test_health_says_when_the_spools_disk_is_full(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keeper = Keeper(KeeperSettings(config=EXAMPLE, db_url=f"sqlite:///{tmp_path / 'p.db'}", spool=tmp_path))
    real = os.statvfs(tmp_path)

    def statvfs(path: Any) -> os.statvfs_result:  # 4 KiB blocks, 100 of them free
        values = list(real)
        values[0] = values[1] = 4096
        values[3] = values[4] = 100
        return os.statvfs_result(values)

    monkeypatch.setattr(os, "statvfs", statvfs)
    problems = health(keeper, MONDAY)["problems"]
    assert f"spool disk full: 400 KiB free at {tmp_path}: the dialplan cannot leave requests" in problems


def test_with_its_database_down_at_start_it_starts_says_so_and_opens_it_when_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(lab: Lab) -> None:
        reachable = lab.settings.db_url
        lab.settings = replace(lab.settings, db_url=f"postgresql+psycopg://lotse@127.0.0.1:{closed_port()}/lotse?connect_timeout=2")
        lab.request("1700000000.1", request_line("callback", MONDAY))
        keeper = await started(lab)  # not a traceback and exit 1 (systemd would give up after a few restarts)
        try:
            for second in range(3):
                lab.now = MONDAY + second
                await keeper.round()
            down = health(keeper, lab.now)
            keeper.settings = replace(keeper.settings, db_url=reachable)  # the database answers again
            lab.now += 1
            await keeper.round()
            up = health(keeper, lab.now)
        finally:
            await keeper.close()
        assert down["database"] == "down" and keeper.rounds == 4
        assert any(p.startswith("database not open (connection failed") and "requests wait in the spool" in p for p in down["problems"])
        assert up["database"] == "up" and not [p for p in up["problems"] if "database" in p]
        store = lab.store()
        try:
            assert [p.id for p in store.pending()] == ["1700000000.1"]
        finally:
            store.close()
        assert [line.split(":")[0] for line in outage_log(caplog)] == ["database unreachable", "database back after 3 s"]
        assert not [r for r in caplog.records if r.exc_info], "no traceback"

    caplog.set_level(logging.INFO, "lotse.promises")
    run(tmp_path, scenario)


def test_the_four_loops_share_one_ping_a_second_and_a_failure_asks_again(monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[object] = []
    monkeypatch.setattr(outage, "_ping", pings.append)
    database, engine = outage.Database(), create_engine("sqlite://")

    async def rounds() -> None:
        for now in (100.0, 100.2, 100.5, 100.9):  # the spool, dial, mail and batch loops within one second
            assert await database.answers(engine, now)
        assert await database.answers(engine, 101.0)  # a second later: asked again
        database.failed(101.2, OperationalError("SELECT 1", {}, Exception("gone")))
        assert await database.answers(engine, 101.3)  # a round failed on it: asked at once, not taken from before

    asyncio.run(rounds())
    assert len(pings) == 3
