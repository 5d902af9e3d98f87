"""Two promises workers on one database: only the lease holder dials and mails; the other takes over when the holder
lets go (AMI down, stop) or dies (the lease expires). On SQLite and on the real PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

from sqlalchemy import create_engine

from promises.lease import TTL, Lease
from promises.store import Promises
from tests.fakes import FakeAmi
from tests.keeper_kit import MONDAY, Lab, request_line, started
from tests.test_keeper import queue_status


def test_one_holder_at_a_time_and_the_other_takes_over_when_it_expires_or_is_let_go(empty_db: str) -> None:
    engine = Promises.open(empty_db).engine
    a, b = Lease(engine, "node-a:1"), Lease(engine, "node-b:1")
    assert a.hold(1000.0) and not b.hold(1000.0)
    assert a.hold(1000.0 + TTL - 1) and not b.hold(1000.0 + TTL)  # renewed: it lasts from the renewal
    assert b.hold(1000.0 + 2 * TTL) and not a.hold(1000.0 + 2 * TTL)  # a stopped renewing (died): b has it, a knows
    assert b.current() == "node-b:1"
    b.release()
    assert a.hold(1000.0 + 2 * TTL + 1)  # let go: taken at once, no wait for the expiry
    engine.dispose()


def test_twenty_nodes_asking_at_once_give_one_holder(empty_db: str) -> None:
    Promises.open(empty_db).close()  # the schema
    engines = [create_engine(empty_db) for _ in range(20)]
    start, results = threading.Barrier(20), list[bool]()

    def ask(n: int) -> None:
        start.wait()
        results.append(Lease(engines[n], f"node-{n}:1").hold(5000.0))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 19 + [True]
    for engine in engines:
        engine.dispose()


def test_only_the_holder_dials_and_the_node_whose_asterisk_is_up_takes_over(tmp_path: Path) -> None:
    """Two workers, each with its own Asterisk (fake AMI) and spool, one database. The callback is dialled once, by
    the holder; its Asterisk goes away: the lease is let go and the other node dials the next callback."""

    async def main() -> None:
        ami_a, ami_b = FakeAmi(), FakeAmi()
        lab_a = Lab(tmp_path / "a", ami_a, await ami_a.start())
        lab_b = Lab(tmp_path / "b", ami_b, await ami_b.start())
        lab_b.db = lab_a.db
        lab_b.settings = replace(lab_b.settings, db_url=lab_a.db)
        for lab in (lab_a, lab_b):
            lab.ami.handlers["queuestatus"] = queue_status(members=1, waiting=[], now=MONDAY)
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        a, b = await started(lab_a), await started(lab_b)
        try:
            lab_b.request("1700000000.1", request_line("callback", MONDAY - 60))  # the caller was on node b's Asterisk
            for keeper in (b, a, b, a):
                await keeper.round()
            assert (len(lab_a.originated), len(lab_b.originated)) == (0, 1)  # b took the lease first, a waits
            await ami_b.stop()  # node b's Asterisk goes away
            await asyncio.wait_for(_until(lambda: not b.link.up), 5)
            await b.round()  # b lets the lease go
            lab_a.ami.handlers["queuestatus"] = queue_status(members=2, waiting=[], now=MONDAY)  # one agent has b's callback
            lab_a.now = MONDAY + 20  # later: attempt ids are the time in ms (and a counter)
            lab_a.request("1700000000.2", request_line("callback", MONDAY - 30, number="+495714722"))
            await a.round()
            assert (len(lab_a.originated), len(lab_b.originated)) == (1, 1) and lab_a.originated[0]["Exten"] != lab_b.originated[0]["Exten"]
        finally:
            await a.close()
            await b.close()
            await ami_a.stop()

    asyncio.run(main())


async def _until(check: object) -> None:
    assert callable(check)
    while not check():
        await asyncio.sleep(0.02)
