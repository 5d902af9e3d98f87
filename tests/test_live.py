"""Live state in the real Redis (127.0.0.1:6379); every test uses its own key prefix."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ivr.fastagi import IvrServer, ServerSettings
from routing.engine import Live
from stores.live import LiveState, member_state
from tests.conftest import EXAMPLE

pytestmark = pytest.mark.services  # the real Redis at 127.0.0.1:6379 (scripts/services)

URL = "redis://127.0.0.1:6379/0"
DATA = Path(__file__).parent / "data" / "ami"


@pytest.fixture
def prefix() -> Iterator[str]:
    name = f"lotse-test-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(URL)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)


def state(prefix: str) -> LiveState:
    return LiveState(redis.Redis.from_url(URL), prefix)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Status": "1", "Paused": "0"}, "available"),
        ({"Status": "0", "Paused": "0"}, "available"),  # Local channels report unknown
        ({"Status": "2", "Paused": "0"}, "talking"),
        ({"Status": "1", "InCall": "1"}, "talking"),
        ({"Status": "6"}, "ringing"),
        ({"Status": "5"}, "unavailable"),
        ({"Status": "4"}, "unavailable"),
        ({"Status": "2", "Paused": "1"}, "paused"),
    ],
)
def test_member_states(fields: dict[str, str], expected: str) -> None:
    assert member_state(fields) == expected


def member(queue: str, interface: str, status: str, paused: str = "0") -> dict[str, str]:
    return {"Event": "QueueMemberStatus", "Queue": queue, "Interface": interface, "Status": status, "Paused": paused}


def test_two_instances_applying_the_same_events_agree(prefix: str) -> None:
    events = [
        member("kfz", "PJSIP/anna", "1"),
        member("kfz", "PJSIP/clara", "5"),
        {"Event": "QueueCallerJoin", "Queue": "kfz", "Uniqueid": "1.1"},
        {"Event": "QueueCallerJoin", "Queue": "kfz", "Uniqueid": "1.2"},
        {"Event": "QueueCallerAbandon", "Queue": "kfz", "Uniqueid": "1.1"},
        member("kfz", "PJSIP/anna", "2"),
    ]
    first, second = state(prefix), state(prefix)
    for event in events:  # two lotse processes get every event
        first.apply(event, 100.0)
        second.apply(event, 100.0)
    live = first.live(["kfz", "jobcenter"])
    assert live.agents == {"kfz": 1}  # anna logged in (talking), clara unavailable; jobcenter unknown
    assert dict(live.waiting) == {"kfz": 1, "jobcenter": 0}
    assert second.live(["kfz", "jobcenter"]) == live


def test_rebuild_from_queue_status_replaces_the_state(prefix: str) -> None:
    live = state(prefix)
    live.apply(member("kfz", "PJSIP/gone", "1"), 1.0)
    status = [
        {"Event": "QueueParams", "Queue": "kfz"},
        {"Event": "QueueMember", "Queue": "kfz", "StateInterface": "PJSIP/anna", "Status": "1", "Paused": "1"},
        {"Event": "QueueEntry", "Queue": "kfz", "Uniqueid": "9.9", "Wait": "42"},
    ]
    live.rebuild(["kfz"], status, now=1000.0)
    client = redis.Redis.from_url(URL, decode_responses=True)
    assert client.hgetall(f"{prefix}:members:kfz") == {"PJSIP/anna": "paused"}
    assert client.hgetall(f"{prefix}:waiting:kfz") == {"9.9": "958.0"}


def test_emergency_switch(prefix: str) -> None:
    live = state(prefix)
    live.switch("minden", "bombe", on=True)
    assert live.live([]).emergencies == frozenset({("minden", "bombe")})
    live.switch("minden", "bombe", on=False)
    assert live.emergencies() == set()


def test_members_from_the_lab_events(prefix: str) -> None:
    live = state(prefix)
    for line in (DATA / "answered.jsonl").read_text(encoding="utf-8").splitlines():
        live.apply(json.loads(line), 1.0)
    assert live.live(["buergerservice"]).waiting == {"buergerservice": 0}  # joined, then left when answered


def test_serve_fails_open_when_redis_is_down(example: object) -> None:
    server = IvrServer(ServerSettings(config=EXAMPLE, redis_url="redis://127.0.0.1:1/0"))
    server.reload()
    facts = asyncio.run(server.live_facts(server.center))
    assert facts == Live() and server.live_failures == 1
