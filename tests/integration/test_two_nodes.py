"""Two nodes on one PostgreSQL and one Redis (docs/operations.md, "Two nodes"): the lab's Asterisk is node a, a second
Asterisk (asterisk/lab second) node b; each has its lotse serve and lotse metrics. Node b dies by parts under traffic:
its lotse serve is killed (its Asterisk asks node a's), then its Asterisk stops (node a goes on alone). Every call
reaches a queue through lotse, and the records in the shared database are the calls of both queue_logs."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from metrics.queue_log import parse
from metrics.store import Store
from stores.live import LiveState
from tests.conftest import postgres_schema
from tests.integration.conftest import Lab
from tests.integration.lab import LOTSE, ROOT, Ami, lab, lotse_serve, new_caller, running
from tests.webapp import free_port

EXAMPLE = ROOT / "config"
REDIS = "redis://127.0.0.1:6379/5"  # a database of its own: the nodes' live state starts empty
PRETEND = "2026-11-23 10:00"  # a Monday in the opening hours


def metrics(node: str, ami_port: int, queue_log: Path, db: str, tmp_path: Path) -> tuple[list[str], int]:
    listen = free_port()
    argv = [str(LOTSE), "metrics", "--config", str(EXAMPLE), "--db", db, "--redis", REDIS, "--node", node]
    argv += ["--ami", f"127.0.0.1:{ami_port}", "--queue-log", str(queue_log), "--spool", str(tmp_path / f"{node}.spool")]
    return [*argv, "--listen", f"127.0.0.1:{listen}"], listen


async def calls_reach_the_queue(ami: Ami, count: int) -> list[str]:
    """``count`` callers of the Jobcenter press 1 (Bürgergeld) during the greeting and hang up 3 s later (the lab's
    quick callers); each reaches the queue lotse chose."""
    callers = [new_caller("0571") for _ in range(count)]
    for caller in callers:
        await ami.call("057138850", caller, "1", context="lotse-lab-bench-caller")
    for caller in callers:
        decision = await ami.decision(caller, 60)
        assert (decision.get("LOTSE_TOPIC"), decision.get("LOTSE_QUEUE")) == ("buergergeld", "jobcenter"), decision
    return callers


async def until(what: str, condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.25)


def recorded(store: Store) -> set[str]:
    return {record.uniqueid for record in store.between(0, 2e9)}


async def traffic(serve_b: subprocess.Popen[bytes], live: LiveState, store: Store) -> int:
    """Calls on both nodes while node b dies by parts; returns how many were placed, once all are recorded."""
    async with Ami() as ami_a, Ami(port=5039) as ami_b:
        await until("both nodes in the live state", lambda: live.nodes(time.time()) == {"a", "b"}, 20)
        both = await asyncio.gather(calls_reach_the_queue(ami_a, 2), calls_reach_the_queue(ami_b, 2))
        serve_b.send_signal(signal.SIGKILL)  # node b's lotse serve dies
        placed = sum(map(len, both)) + len(await calls_reach_the_queue(ami_b, 2))  # b's Asterisk asks a's lotse serve
        await until("the calls of both nodes recorded", lambda: len(recorded(store)) == placed, 90)
    lab("second-stop")  # node b's Asterisk stops: its lotse metrics loses the link and its entries leave the view
    await until("node b gone from the live state", lambda: live.nodes(time.time()) == {"a"}, 15)
    async with Ami() as ami_a:
        placed += len(await calls_reach_the_queue(ami_a, 2))  # node a goes on alone
        await until("node a's later calls recorded", lambda: len(recorded(store)) == placed, 90)
    return placed


def test_node_b_dies_by_parts_under_traffic_and_every_call_is_routed_and_recorded_once(asterisk: Lab, tmp_path: Path) -> None:
    redis.Redis.from_url(REDIS).flushdb()
    lab("second", str(EXAMPLE))
    logs = {name: asterisk.root / f"var/log/{name}/queue_log" for name in ("lotse-lab", "lotse-lab-b")}
    already = {name: len(path.read_text().splitlines()) for name, path in logs.items()}
    live = LiveState(redis.Redis.from_url(REDIS))
    with postgres_schema() as db:
        subprocess.run([str(LOTSE), "db", "upgrade", "--db", db], check=True, capture_output=True)
        metrics_a, port_a = metrics("a", 5038, logs["lotse-lab"], db, tmp_path)
        metrics_b, port_b = metrics("b", 5039, logs["lotse-lab-b"], db, tmp_path)
        store = Store.open_existing(db)
        try:
            with (
                running(metrics_a, tmp_path / "metrics-a.log", port_a),
                running(metrics_b, tmp_path / "metrics-b.log", port_b),
                lotse_serve(EXAMPLE, PRETEND, tmp_path / "serve-a.log", REDIS, port=4573),
                lotse_serve(EXAMPLE, PRETEND, tmp_path / "serve-b.log", REDIS, port=4574) as serve_b,
            ):
                placed = asyncio.run(traffic(serve_b, live, store))
            ids = recorded(store)
        finally:
            store.close()
            lab("second-stop")
    messages_b = (asterisk.root / "var/log/lotse-lab-b/messages.log").read_text(errors="replace")
    assert "FastAGI 127.0.0.1:4574 failed" in messages_b  # node b's Asterisk asked node a's lotse serve
    queued = {callid for name, path in logs.items() for callid in parse(path.read_text().splitlines()[already[name] :]).calls}
    assert len(queued) == placed == len(ids) == 8
    assert ids == queued  # one record per call of both queue_logs, none twice
    assert sum(callid.startswith("b-") for callid in queued) == 4  # systemname b keeps b's unique ids apart
