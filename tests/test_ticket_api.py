"""The tickets' HTTP API in-process (httpx's ASGI transport, the real store on SQLite, and on PostgreSQL when marked).

Concurrent requests are answered in threads (the API's asyncio.to_thread), so the store sees real parallel writers.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from promises import api
from promises.store import Promises, Request, TicketError
from promises.tokens import Tokens

NOW = 1795000000.0
CLIENTS = {"standesamt": "standesamt-minden", "standesamt-app": "standesamt-minden", "bauamt": "rathaus-petershagen", "leitstelle": None}
TOKENS = {name: f"lotse_test-{name}-{'0' * 32}" for name in CLIENTS}  # each client's secret, given (the API sees only its hash)


def with_clients(url: str) -> Promises:
    """The store at ``url`` with four clients: two of the Standesamt, one of the Bauamt, one admin."""
    opened = Promises.open(url)
    tokens = Tokens(opened.engine)
    for name, department in CLIENTS.items():
        tokens.add(name, department, NOW, TOKENS[name])
    return opened


@pytest.fixture
def promises(empty_db: str) -> Iterator[Promises]:
    opened = with_clients(empty_db)
    yield opened
    opened.close()


def ticket(promises: Promises, request: str = "t-1", department: str = "standesamt-minden") -> int:
    fields = f"ticket|{NOW}|minden||ausweis|buergerservice|{department}|department_closed|057112345|"
    found = promises.add_ticket(Request.parse(request, fields), NOW + 3600, NOW)
    assert found is not None
    return found


def client(promises: Promises | None) -> httpx.AsyncClient:
    application = api.app(lambda: promises, lambda: {})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://lotse")


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


async def parallel(promises: Promises, path: str, n: int, body: dict[str, Any] | None = None) -> list[httpx.Response]:
    async with client(promises) as http:
        tokens = ("standesamt", "standesamt-app")
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


async def answers(promises: Promises, *requests: tuple[str, str, str, dict[str, Any] | None]) -> list[tuple[int, Any]]:
    """(method, path, client, body) one after another; each answer's status and JSON."""
    found = []
    async with client(promises) as http:
        for method, path, name, body in requests:
            answer = await http.request(method, path, json=body, headers=bearer(name) if name else {})
            found.append((answer.status_code, answer.json()))
    return found


def test_a_department_token_sees_and_moves_only_its_departments_tickets_an_admin_all(promises: Promises) -> None:
    standesamt, bauamt = ticket(promises, "t-1"), ticket(promises, "t-2", "rathaus-petershagen")
    no_department = ticket(promises, "t-3", "")  # a callback that failed: a ticket of the center, no department's
    other = f"this token is for department 'standesamt-minden'; ticket {bauamt} is another department's"
    found = asyncio.run(
        answers(
            promises,
            ("GET", "/api/tickets", "standesamt", None),
            ("GET", f"/api/tickets/{bauamt}", "standesamt", None),
            ("POST", f"/api/tickets/{bauamt}/done", "standesamt", {"note": "erledigt"}),
            ("POST", f"/api/tickets/{bauamt}/cancel", "standesamt", {}),
            ("POST", f"/api/tickets/{bauamt}/claim", "standesamt", {}),
            ("GET", "/api/tickets", "leitstelle", None),
            ("POST", f"/api/tickets/{no_department}/done", "leitstelle", {}),
        )
    )
    assert [t["id"] for t in found[0][1]] == [standesamt]
    assert found[1:5] == [(403, {"error": other})] * 4
    assert sorted(t["id"] for t in found[5][1]) == [standesamt, bauamt, no_department]
    assert found[6][0] == 200
    assert promises.ticket(bauamt).status == "open" and [h[1] for h in promises.history(bauamt)] == ["opened"]


def test_a_ticket_in_progress_with_one_client_is_closed_only_by_it_or_an_admin(promises: Promises) -> None:
    one, two = ticket(promises, "t-1"), ticket(promises, "t-2")
    found = asyncio.run(
        answers(
            promises,
            ("POST", f"/api/tickets/{one}/claim", "standesamt-app", {}),
            ("POST", f"/api/tickets/{one}/done", "standesamt", {}),
            ("POST", f"/api/tickets/{one}/done", "standesamt-app", {}),
            ("POST", f"/api/tickets/{two}/claim", "standesamt-app", {}),
            ("POST", f"/api/tickets/{two}/cancel", "leitstelle", {"note": "doppelt"}),
        )
    )
    assert [code for code, _ in found] == [200, 409, 200, 200, 200]
    assert found[1][1] == {"error": f"ticket {one} is in progress with standesamt-app: it cannot be marked done"}
    assert [h[1:3] for h in promises.history(two)][-1] == ("cancelled", "leitstelle")


def test_a_revoked_token_is_refused_at_once_and_no_secret_is_stored(promises: Promises) -> None:
    tokens = Tokens(promises.engine)
    (bauamt,) = (c for c in tokens.all() if c.name == "bauamt")
    tokens.revoke(bauamt.id, NOW + 60)
    unknown = {"error": "missing, unknown or revoked token (Authorization: Bearer <token>)"}
    assert asyncio.run(answers(promises, ("GET", "/api/tickets", "bauamt", None), ("GET", "/api/tickets", "", None))) == [
        (401, unknown),
        (401, unknown),
    ]
    with promises.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("SELECT * FROM api_tokens")) for v in row)
    assert all(secret not in stored for secret in TOKENS.values())
    assert hashlib.sha256(TOKENS["bauamt"].encode()).hexdigest() in stored
