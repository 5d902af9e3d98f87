"""The tickets' HTTP API in-process (httpx's ASGI transport, the real store on SQLite, and on PostgreSQL when marked).

Concurrent requests are answered in threads (the API's asyncio.to_thread), so the store sees real parallel writers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from promises import api
from promises.store import Promises, Request, TicketError

NOW = 1795000000.0
STANDESAMT = "standesamt-token-0123456789abcdef"
STANDESAMT_APP = "standesamt-app-0123456789abcdef"


@pytest.fixture
def promises(empty_db: str) -> Iterator[Promises]:
    opened = Promises.open(empty_db)
    yield opened
    opened.close()


def ticket(promises: Promises, request: str = "t-1", department: str = "standesamt-minden") -> int:
    fields = f"ticket|{NOW}|minden||ausweis|buergerservice|{department}|department_closed|057112345|"
    found = promises.add_ticket(Request.parse(request, fields), NOW + 3600, NOW)
    assert found is not None
    return found


def client(promises: Promises) -> httpx.AsyncClient:
    tokens = {STANDESAMT: "standesamt", STANDESAMT_APP: "standesamt-app"}
    application = api.app(lambda: promises, tokens, lambda: {})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://lotse")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def parallel(promises: Promises, path: str, n: int, body: dict[str, Any] | None = None) -> list[httpx.Response]:
    async with client(promises) as http:
        tokens = (STANDESAMT, STANDESAMT_APP)
        return list(await asyncio.gather(*(http.post(path, json=body or {}, headers=bearer(tokens[i % 2])) for i in range(n))))


@pytest.mark.parametrize("action", ["claim", "done", "cancel"])
def test_twenty_parallel_moves_of_one_ticket_one_wins_the_others_hear_who_has_it(promises: Promises, action: str) -> None:
    ticket_id = ticket(promises)
    answers = asyncio.run(parallel(promises, f"/api/tickets/{ticket_id}/{action}", 20, {"note": "zurückgerufen"}))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] + [409] * 19
    (winner,) = (a.json() for a in answers if a.status_code == 200)
    holder = winner["assignee"] if action == "claim" else next(h[2] for h in promises.history(ticket_id) if h[1] != "opened")
    state, verb = {
        "claim": ("in progress with", "claimed"),
        "done": ("done by", "marked done"),
        "cancel": ("cancelled by", "cancelled"),
    }[action]
    assert {a.json()["error"] for a in answers if a.status_code == 409} == {f"ticket {ticket_id} is {state} {holder}: it cannot be {verb}"}
    assert [h[1] for h in promises.history(ticket_id)] == ["opened", {"claim": "claimed", "done": "done", "cancel": "cancelled"}[action]]


@pytest.mark.services
def test_parallel_claims_in_threads_on_postgresql_one_wins(postgres_db: str) -> None:
    """Twenty threads claim at once (a barrier lets them go together) on the real PostgreSQL: one row changes."""
    promises = Promises.open(postgres_db)
    try:
        ticket_id = ticket(promises)
        start = threading.Barrier(20)

        def claim(n: int) -> str:
            start.wait()
            try:
                return promises.claim(ticket_id, f"client-{n % 2}", NOW).assignee
            except TicketError as exc:
                return str(exc)

        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(claim, range(20)))
        winners = [r for r in results if r.startswith("client-")]
        assert len(winners) == 1
        assert set(results) - set(winners) == {f"ticket {ticket_id} is in progress with {winners[0]}: it cannot be claimed"}
        assert [h[1:3] for h in promises.history(ticket_id)] == [("opened", "lotse"), ("claimed", winners[0])]
    finally:
        promises.close()
