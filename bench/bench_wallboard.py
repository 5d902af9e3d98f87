"""Wallboard benchmark: event-to-screen latency and lotse web's CPU with many open wallboards.

    python -m bench.bench_wallboard [--pages 50] [--rate 20] [--seconds 30] [--rounds 3]

lotse web runs as its own process on the real Redis (a key prefix of its own).
This process plays lotse metrics: for ``rate`` calls a second it applies the
live-state events of a call (QueueCallerJoin; the agent ringing, talking, free
again; QueueCallerLeave: 5 events a call) with ``LiveState.apply``, which
announces each on Redis as lotse metrics does. ``pages`` SSE clients (logged in
as a viewer) read the boards. An event's latency is the time from its apply to
the first board a page receives that includes it (the board's ``changed``);
the page's drawing in a browser is not included. Server CPU is read from
/proc/PID/stat. Baseline in the same run: one page under the same events.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import redis

from stores.live import LiveState
from tests.integration.lab import wait_port
from tests.webapp import PASSWORD, free_port, login
from web.users import Role, set_user

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
QUEUES = ("buergerservice", "kfz", "jobcenter")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def page(url: str, cookies: httpx.Cookies, seen: list[tuple[float, float]], stop: asyncio.Event) -> None:
    """One open wallboard: (received, board's changed) for every board."""
    async with (
        httpx.AsyncClient(base_url=url, cookies=cookies, timeout=None) as client,
        client.stream("GET", "/wallboard/events") as answer,
    ):
        async for line in answer.aiter_lines():
            if line.startswith("data: "):
                seen.append((time.time(), float(json.loads(line[6:]).get("changed", 0.0))))
            if stop.is_set():
                return


async def events(live: LiveState, rate: float, seconds: float) -> list[float]:
    """Apply the events of rate calls a second; returns each event's apply time."""
    applied: list[float] = []
    start, n, every = time.monotonic(), 0, 1 / (rate * 5)
    while time.monotonic() - start < seconds:
        queue, uid, agent = QUEUES[n % len(QUEUES)], f"b{n}", f"PJSIP/bench{n % 12}"
        for k, event in enumerate(
            (
                {"Event": "QueueCallerJoin", "Queue": queue, "Uniqueid": uid},
                {"Event": "QueueMemberStatus", "Queue": queue, "Interface": agent, "Status": "6", "MemberName": agent},
                {"Event": "QueueMemberStatus", "Queue": queue, "Interface": agent, "Status": "2", "InCall": "1"},
                {"Event": "QueueCallerLeave", "Queue": queue, "Uniqueid": uid},
                {"Event": "QueueMemberStatus", "Queue": queue, "Interface": agent, "Status": "1", "InCall": "0"},
            )
        ):
            due = start + (5 * n + k) * every - time.monotonic()
            if due > 0:
                await asyncio.sleep(due)
            now = time.time()
            live.apply(event, now)  # about 0.1 ms against the local Redis: in the loop, so that the schedule holds
            applied.append(now)
        n += 1
    return applied


def latencies(applied: list[float], seen: list[tuple[float, float]]) -> list[float]:
    """Per event: the first board received that includes it (changed >= its time), minus its time."""
    seen = sorted(seen, key=lambda s: s[1])
    changed = [c for _, c in seen]
    # earliest receipt among boards with changed >= t: suffix minimum of receipt times
    suffix = [0.0] * len(seen)
    best = float("inf")
    for i in range(len(seen) - 1, -1, -1):
        best = min(best, seen[i][0])
        suffix[i] = best
    out = []
    for t in applied:
        i = bisect.bisect_left(changed, t)
        if i < len(seen):
            out.append(suffix[i] - t)
    return out


async def round_(url: str, pid: int, live: LiveState, pages: int, rate: float, seconds: float) -> dict[str, float]:
    with httpx.Client(base_url=url) as client:
        login(client, "wand")
        cookies = client.cookies
    stop = asyncio.Event()
    seen: list[list[tuple[float, float]]] = [[] for _ in range(pages)]
    tasks = [asyncio.create_task(page(url, cookies, seen[i], stop)) for i in range(pages)]
    await asyncio.sleep(1.0)
    before, clock = cpu_seconds(pid), time.monotonic()
    applied = await events(live, rate, seconds)
    await asyncio.sleep(1.0)
    cpu, wall = cpu_seconds(pid) - before, time.monotonic() - clock
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    delays = sorted(d for s in seen for d in latencies(applied, s))
    missed = len(applied) * pages - len(delays)
    return {
        "p50_ms": 1000 * statistics.median(delays),
        "p99_ms": 1000 * delays[int(0.99 * (len(delays) - 1))],
        "max_ms": 1000 * delays[-1],
        "cpu_percent": 100 * cpu / wall,
        "cpu_ms_per_event": 1000 * cpu / len(applied),
        "events": len(applied),
        "missed": missed,
    }


async def main(args: argparse.Namespace) -> None:
    prefix = f"lotse-bench-{uuid.uuid4().hex[:6]}"
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    live = LiveState(client, prefix)
    with tempfile.TemporaryDirectory() as tmp:
        users = Path(tmp) / "users.yaml"
        set_user(users, "wand", Role.VIEWER, PASSWORD)
        port = free_port()
        argv = [sys.executable, "-m", "lotse.cli", "web", "--config", str(ROOT / "config"), "--users", str(users)]
        argv += ["--agents", str(ROOT / "asterisk/agents.example.yaml")]
        argv += ["--db", f"sqlite:///{tmp}/calls.db", "--listen", f"127.0.0.1:{port}", "--redis-prefix", prefix]
        server = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            try:
                wait_port(port, timeout=20)
            except TimeoutError:
                server.terminate()
                raise SystemExit(f"lotse web did not start: {server.communicate()[1].decode()[-2000:]}") from None
            results: dict[int, list[dict[str, float]]] = {1: [], args.pages: []}
            for n in range(args.rounds):
                for pages in (1, args.pages):
                    found = await round_(f"http://127.0.0.1:{port}", server.pid, live, pages, args.rate, args.seconds)
                    results[pages].append(found)
                    print(f"round {n + 1}, {pages:3d} page(s): " + ", ".join(f"{k} {v:.2f}" for k, v in found.items()), flush=True)
            for pages, rounds in results.items():
                median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
                print(f"median of {args.rounds} rounds, {pages:3d} page(s): " + ", ".join(f"{k} {v:.2f}" for k, v in median.items()))
            ratio = statistics.median(r["cpu_percent"] for r in results[args.pages]) / statistics.median(
                r["cpu_percent"] for r in results[1]
            )
            print(f"server CPU, {args.pages} pages / 1 page: {ratio:.2f}x")
        finally:
            server.terminate()
            server.wait(20)
            keys = list(client.scan_iter(f"{prefix}:*"))
            if keys:
                client.delete(*keys)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--rate", type=float, default=20.0, help="calls per second (5 live events each)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
