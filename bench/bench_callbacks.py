"""Fairness of queue callbacks under load, through the lab Asterisk.

    .venv/bin/python -m bench.bench_callbacks --callers 200 --rate 1.2 --agents 20

Callers to Stadt Minden press 1 (Personalausweis, queue buergerservice); every
third of them also presses the callback key 5 while waiting (when lotse's prompts
have ended, about 11 s after joining). The same arrivals run twice: once with
nobody pressing 5 (the baseline), once with the callbacks, in which lotse promises
is killed (SIGKILL) after two thirds of the callers and started again 10 s later.
lotse serve and lotse promises run from the working tree; agents are Local channels
that talk 8 s.

Reported, from Asterisk's AMI events and lotse promises' database:

- overtakes: a callback whose agent answered while a caller who joined the queue
  before the callback's caller was still waiting (goal 0);
- dialled twice: a callback number with two attempts at once, or more attempts
  than the request's count (goal 0);
- the wait of the callers who stayed (join -> agent, median and p90) with and
  without the callbacks;
- callbacks requested, reached, and the time from request to the caller answering.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench.soak import until_quiet
from promises.store import Promises
from tests.integration.lab import LOTSE, PROMPTS_IN_ASTERISK, ROOT, Ami, lab, lab_root, lotse_serve

CONFIG = ROOT / "config"
PRETEND = "2026-11-23 10:00"
AMI_SECRET = "lab-ami-2026-secret"


async def staff(ami: Ami, agents: int, action: str) -> None:
    for n in range(agents):
        member = {"Action": action, "Queue": "buergerservice", "Interface": f"Local/bench{n:02d}@lotse-lab-agents/n"}
        await ami.manager.send_action(member, as_list=False)


async def one_run(callers: int, rate: float, agents: int, with_callbacks: bool, db: str, workdir: Path) -> dict[str, object]:
    spool = lab_root() / "var/spool/lotse-lab/promises"
    argv = [str(LOTSE), "promises", "--config", str(CONFIG), "--db", db, "--spool", str(spool), "--prompts", PROMPTS_IN_ASTERISK,
            "--listen", "127.0.0.1:0", "--callback-wait", "600"]  # fmt: skip
    log = workdir / f"promises-{with_callbacks}.log"

    def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "LOTSE_AMI_SECRET": AMI_SECRET})

    keeper = start()
    numbers = [f"0571{7_000_000 + n:07d}" for n in range(callers)]
    pressing = {numbers[n] for n in range(2, callers, 3)} if with_callbacks else set()
    try:
        async with Ami() as ami:
            await staff(ami, agents, "QueueAdd")
            try:
                for n, number in enumerate(numbers):
                    await ami.call("0571890", number, "15" if number in pressing else "1")
                    await asyncio.sleep(1 / rate)
                    if with_callbacks and n == 2 * callers // 3:  # a crash with callbacks pending and in progress
                        keeper.kill()
                        keeper.wait()
                        await asyncio.sleep(10)
                        keeper = start()
                await asyncio.sleep(20)
                await until_quiet(ami)
                await asyncio.sleep(3)
            finally:
                await staff(ami, agents, "QueueRemove")
            events = list(ami.events)
    finally:
        keeper.terminate()
        keeper.wait(timeout=20)
    return analyse(events, numbers, pressing, db)


def _stamp(event: dict[str, str]) -> float:
    return float(event.get("Timestamp") or event.get("_arrived") or 0)


def analyse(events: list[dict[str, str]], numbers: list[str], pressing: set[str], db: str) -> dict[str, object]:
    joined: dict[str, float] = {}
    answered: dict[str, float] = {}
    left: dict[str, float] = {}  # left the queue: answered or hung up
    callback_agent: list[float] = []  # when a callback's agent answered
    dial_begins: dict[str, list[float]] = {}
    for e in events:
        name, channel = e.get("Event"), e.get("Channel", "")
        caller = channel.removeprefix("Local/").split("*", 1)[0]
        if name == "QueueCallerJoin" and caller in numbers and caller not in joined:
            joined[caller] = _stamp(e)
        elif name == "AgentConnect" and caller in numbers and caller not in answered:
            answered[caller] = _stamp(e)
        elif name == "QueueCallerLeave" and caller in numbers and caller not in left:
            left[caller] = _stamp(e)
        elif name == "AgentConnect" and "lotse-callback-queue" in channel:
            callback_agent.append(_stamp(e))
        elif name == "DialBegin" and "lotse-lab-departments" in e.get("DestChannel", ""):
            dial_begins.setdefault(e.get("DestChannel", "").split("@")[0].removeprefix("Local/"), []).append(_stamp(e))
    store = Promises.open(db)
    try:
        requests = [r for r in store.all_callbacks(0) if "0" + r["number"][3:] in pressing]
    finally:
        store.close()
    # overtakes: a callback's agent answered while a caller who joined before the callback's caller still waited
    overtakes = 0
    for request in requests:
        if request["status"] != "reached" or request["reached"] is None:
            continue
        agent_at = max((t for t in callback_agent if t <= request["reached"]), default=None)
        if agent_at is None:
            continue
        overtakes += sum(
            1
            for caller, at in joined.items()
            if caller not in pressing and at < request["joined"] and left.get(caller, float("inf")) > agent_at
        )
    twice = sum(1 for r in requests if len(dial_begins.get(r["number"], [])) > r["attempts"])
    stayers = [answered[c] - joined[c] for c in numbers if c not in pressing and c in answered and c in joined]
    reached = [r["reached"] - r["created"] for r in requests if r["status"] == "reached" and r["reached"]]
    return {
        "stayers answered": len(stayers),
        "stayers wait median s": round(statistics.median(stayers), 1) if stayers else None,
        "stayers wait p90 s": round(sorted(stayers)[int(0.9 * len(stayers))], 1) if stayers else None,
        "callbacks requested": len(requests),
        "callbacks reached": len(reached),
        "request -> caller answered median s": round(statistics.median(reached), 1) if reached else None,
        "overtakes": overtakes,
        "dialled twice": twice,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=1.2, help="callers placed per second")
    parser.add_argument("--agents", type=int, default=20, help="lab agents in the queue (8 s talk, 10 s wrap-up: 1 call/s for 20)")
    args = parser.parse_args()
    lab("prepare", str(CONFIG))
    with tempfile.TemporaryDirectory(prefix="lotse-bench-cb-") as tmp:
        workdir = Path(tmp)
        with lotse_serve(CONFIG, PRETEND, workdir / "serve.log"):
            results = {}
            for with_callbacks in (False, True):
                db = f"sqlite:///{workdir / f'promises-{with_callbacks}.db'}"
                results[with_callbacks] = asyncio.run(one_run(args.callers, args.rate, args.agents, with_callbacks, db, workdir))
    print(f"bench_callbacks: {args.callers} callers at {args.rate}/s, {args.agents} agents (8 s talk), every third presses 5")
    for key in results[True]:
        print(f"{key:<40} {results[False][key]!s:>10} {results[True][key]!s:>10}")
    print(f"{'':<40} {'baseline':>10} {'callbacks':>10}")


if __name__ == "__main__":
    main()
