"""Live state in the real Redis (127.0.0.1:6379); every test uses its own key prefix."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import redis

from ivr.fastagi import IvrServer, ServerSettings
from metrics.exporter import Exporter
from metrics.live_feed import LiveFeed
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


def state(prefix: str, node: str = "a") -> LiveState:
    return LiveState(redis.Redis.from_url(URL), prefix, node)


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
    live = first.live(["kfz", "jobcenter"], now=100.0)
    assert live.agents == {"kfz": 1}  # anna logged in (talking), clara unavailable; jobcenter unknown
    assert dict(live.waiting) == {"kfz": 1, "jobcenter": 0}
    assert second.live(["kfz", "jobcenter"], now=100.0) == live


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
    assert client.hgetall(f"{prefix}:members:kfz") == {"a|PJSIP/anna": "paused"}
    assert client.hgetall(f"{prefix}:waiting:kfz") == {"a|9.9": "958.0"}


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
    assert live.live(["buergerservice"], now=1.0).waiting == {"buergerservice": 0}  # joined, then left when answered


def test_serve_fails_open_when_redis_is_down(example: object) -> None:
    server = IvrServer(ServerSettings(config=EXAMPLE, redis_url="redis://127.0.0.1:1/0"))
    server.reload()
    facts = asyncio.run(server.live_facts(server.center))
    assert facts == Live() and server.live_failures == 1


def two_nodes(prefix: str) -> tuple[LiveState, LiveState]:
    a, b = state(prefix, "a"), state(prefix, "b")
    a.apply(member("kfz", "PJSIP/anna", "1"), 100.0)
    a.apply({"Event": "QueueCallerJoin", "Queue": "kfz", "Uniqueid": "a-1.1"}, 100.0)
    b.apply(member("kfz", "PJSIP/bernd", "1"), 100.0)
    b.apply({"Event": "QueueCallerJoin", "Queue": "kfz", "Uniqueid": "b-1.1"}, 100.0)
    b.apply({"Event": "QueueCallerJoin", "Queue": "kfz", "Uniqueid": "b-1.2"}, 100.0)
    return a, b


def test_both_nodes_callers_and_agents_are_seen_and_summed_for_the_routing(prefix: str) -> None:
    a, b = two_nodes(prefix)
    snapshot = a.snapshot(["kfz"], now=101.0)
    assert snapshot.members == {"kfz": {"PJSIP/anna": "available", "PJSIP/bernd": "available"}}
    assert set(snapshot.waiting["kfz"]) == {"a-1.1", "b-1.1", "b-1.2"}
    assert b.live(["kfz"], now=101.0) == Live(agents={"kfz": 2}, waiting={"kfz": 3})


def test_a_nodes_rebuild_replaces_its_own_entries_and_leaves_the_other_nodes(prefix: str) -> None:
    a, b = two_nodes(prefix)
    a.apply({"Event": "QueueMemberPause", "Queue": "kfz", "Interface": "PJSIP/anna", "Paused": "1", "PausedReason": "Pause"}, 100.0)
    b.apply({"Event": "QueueMemberPause", "Queue": "kfz", "Interface": "PJSIP/bernd", "Paused": "1", "PausedReason": "Schulung"}, 100.0)
    status = [{"Event": "QueueMember", "Queue": "kfz", "StateInterface": "PJSIP/clara", "Status": "1", "Paused": "0"}]
    a.rebuild(["kfz"], status, now=110.0)  # A's Asterisk restarted: anna gone, clara there, its caller gone
    snapshot = b.snapshot(["kfz"], now=111.0)
    assert snapshot.members == {"kfz": {"PJSIP/clara": "available", "PJSIP/bernd": "paused"}}
    assert set(snapshot.waiting["kfz"]) == {"b-1.1", "b-1.2"}
    assert snapshot.pauses == {"PJSIP/bernd": "Schulung"}


def test_a_node_not_heard_of_for_30_s_or_whose_link_dropped_leaves_the_view(prefix: str) -> None:
    a, b = two_nodes(prefix)
    b.beat(125.0)  # B's lotse metrics follows its Asterisk; A's said nothing since 100
    assert a.live(["kfz"], now=130.0) == Live(agents={"kfz": 2}, waiting={"kfz": 3})  # 30 s: still in
    assert a.live(["kfz"], now=130.5) == Live(agents={"kfz": 1}, waiting={"kfz": 2})  # A's entries left out
    assert a.nodes(130.5) == {"b"}
    b.leave(131.0)  # B's AMI link dropped: its entries leave at once
    assert a.live(["kfz"], now=131.0) == Live(agents={}, waiting={"kfz": 0})
    a.beat(132.0)  # A is back: its entries as they were until its rebuild replaces them
    assert a.live(["kfz"], now=132.0) == Live(agents={"kfz": 1}, waiting={"kfz": 1})


def test_one_agent_in_the_queue_on_both_nodes_counts_once_at_its_busiest(prefix: str) -> None:
    a, b = state(prefix, "a"), state(prefix, "b")
    a.apply(member("kfz", "PJSIP/anna", "2"), 100.0)  # talking on A
    b.apply(member("kfz", "PJSIP/anna", "1"), 100.0)  # idle on B
    assert a.snapshot(["kfz"], now=100.0).members == {"kfz": {"PJSIP/anna": "talking"}}
    assert a.live(["kfz"], now=100.0).agents == {"kfz": 1}


def test_entries_of_no_node_written_before_the_upgrade_are_replaced_at_the_first_rebuild(prefix: str) -> None:
    client = redis.Redis.from_url(URL, decode_responses=True)
    client.hset(f"{prefix}:members:kfz", "PJSIP/old", "available")  # as lotse wrote it before it kept nodes apart
    live = state(prefix, "a")
    assert live.snapshot(["kfz"], now=1.0).members == {"kfz": {}}
    live.rebuild(["kfz"], [{"Event": "QueueMember", "Queue": "kfz", "StateInterface": "PJSIP/anna", "Status": "1"}], now=1.0)
    assert client.hgetall(f"{prefix}:members:kfz") == {"a|PJSIP/anna": "available"}


def test_a_node_name_with_the_field_separator_is_refused() -> None:
    with pytest.raises(ValueError, match="must not contain"):
        LiveState(redis.Redis.from_url(URL), "x", "a|b")


def test_lotse_metrics_says_its_node_is_current_while_its_ami_link_is_up_and_leaves_when_it_drops(prefix: str) -> None:
    live = state(prefix, "a")
    feed = LiveFeed(live, ("kfz",), cast(Exporter, None))  # the exporter is only for the agents' gauges
    asyncio.run(feed.beat(following=True))
    assert live.nodes(time.time()) == {"a"}
    asyncio.run(feed.beat(following=False))
    assert live.nodes(time.time()) == set()
