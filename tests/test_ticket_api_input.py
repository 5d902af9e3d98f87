"""The tickets' HTTP API against bad input, in-process: every refusal is JSON with the status that says why, and a
body is limited before it is read (by its Content-Length) and while it streams in (chunked, without one)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from promises import api
from promises.store import Promises
from tests.test_ticket_api import bearer, client, ticket, with_clients


@pytest.fixture
def promises(tmp_path: Path) -> Iterator[Promises]:
    opened = with_clients(f"sqlite:///{tmp_path / 'lotse.db'}")
    yield opened
    opened.close()


async def post(promises: Promises, path: str, content: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with client(promises) as http:
        answer = await http.post(path, content=content, headers={**bearer("standesamt"), **(headers or {})})
        return answer.status_code, answer.json()


JSON = {"Content-Type": "application/json"}


def test_a_body_that_is_not_utf8_json_or_the_right_shape_is_400_naming_the_problem(promises: Promises) -> None:
    path = f"/api/tickets/{ticket(promises)}/done"
    bodies = [
        (b'{"note": "\xff\xfe"}', "the body is not UTF-8: byte 0xff at position 10"),
        (b'{"note": ', "the body is not JSON: Expecting value at line 1 column 10"),
        (b"[" * 100_00, "the body is not JSON: nested too deeply"),
        (b'["note"]', 'the body must be an object, e.g. {"note": "zurückgerufen"}'),
        (b'{"notes": "x"}', "unknown key 'notes' in the body; it takes only 'note'"),
        (b'{"note": 7}', "'note' must be a text, not int"),
        (b'{"note": "' + b"x" * 401 + b'"}', "the note has 401 characters; at most 400"),
    ]
    for body, error in bodies:
        assert asyncio.run(post(promises, path, body, JSON)) == (400, {"error": error}), body[:20]
    assert promises.ticket(int(path.split("/")[3])).status == "open"


def test_a_body_that_is_not_json_by_its_type_is_415(promises: Promises) -> None:
    path = f"/api/tickets/{ticket(promises)}/done"
    for kind, error in (
        ("text/plain", "the body must be application/json, not text/plain"),
        ("application/x-www-form-urlencoded", "the body must be application/json, not application/x-www-form-urlencoded"),
        ("application/json; charset=latin-1", "the body must be UTF-8, not latin-1"),
    ):
        assert asyncio.run(post(promises, path, b'{"note": "x"}', {"Content-Type": kind})) == (415, {"error": error})
    assert asyncio.run(post(promises, path, b'{"note": "x"}', {"Content-Type": "application/json; charset=utf-8"}))[0] == 200


def test_ids_beyond_64_bits_and_paths_that_are_not_the_apis_are_404_in_json(promises: Promises) -> None:
    async def scenario() -> list[tuple[int, Any]]:
        async with client(promises) as http:
            found = []
            for method, path in (
                ("GET", f"/api/tickets/{2**64}"),
                ("POST", f"/api/tickets/{2**64}/claim"),
                ("GET", f"/api/tickets/{'9' * 5000}"),
                ("GET", "/api/tickets/abc"),
                ("GET", "/api/tickets/1/claim"),
                ("GET", "/api/nothing"),
            ):
                answer = await http.request(method, path, headers=bearer("standesamt"))
                found.append((answer.status_code, answer.json()))
            return found

    found = asyncio.run(scenario())
    assert found[:2] == [(404, {"error": f"there is no ticket {2**64}"})] * 2
    assert found[2] == (404, {"error": f"there is no ticket {'9' * 20}..."})
    assert found[3] == (404, {"error": "there is no ticket abc"})
    assert found[4] == (405, {"error": "GET is not allowed on /api/tickets/1/claim"})
    assert found[5] == (404, {"error": "no such path: /api/nothing"})


class Sent:
    """A request body sent in chunks, counting what the API took of it."""

    def __init__(self, chunks: int, size: int = 64 * 1024) -> None:
        self.chunks, self.size, self.taken = chunks, size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.taken += self.size
            yield b" " * self.size


def test_a_body_over_the_limit_is_413_before_it_is_read_by_its_length_and_while_it_streams(promises: Promises) -> None:
    path = f"/api/tickets/{ticket(promises)}/done"
    declared = Sent(800)  # 50 MB announced by Content-Length
    length = {**JSON, "Content-Length": str(800 * 64 * 1024)}
    limit = api.MAX_BODY
    assert asyncio.run(post(promises, path, declared, length)) == (413, {"error": f"the body has 52428800 bytes; at most {limit}"})
    assert declared.taken == 0  # not a byte of it read
    streamed = Sent(800)  # the same, chunked, without a length
    assert asyncio.run(post(promises, path, streamed, JSON)) == (413, {"error": f"the body is longer than {limit} bytes"})
    assert streamed.taken <= limit + streamed.size  # stopped at the limit, not read in full
    assert promises.ticket(int(path.split("/")[3])).status == "open"


def test_the_api_before_the_store_is_open_is_503_in_json() -> None:
    async def scenario() -> tuple[int, Any]:
        async with client(None) as http:
            answer = await http.get("/api/tickets", headers={"Authorization": "Bearer x"})
            return answer.status_code, answer.json()

    assert asyncio.run(scenario()) == (503, {"error": "lotse promises is starting: the store is not open yet"})


def test_a_database_that_cannot_be_opened_is_503_in_json_and_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    unreachable = Promises(create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'lotse.db'}"))

    async def scenario() -> tuple[int, Any]:
        async with client(unreachable) as http:
            answer = await http.get("/api/tickets", headers={"Authorization": "Bearer x"})
            return answer.status_code, answer.json()

    assert asyncio.run(scenario()) == (503, {"error": "the database cannot be reached; try again later"})
    assert "ticket API: the database cannot be used: (sqlite3.OperationalError) unable to open database file" in caplog.text
