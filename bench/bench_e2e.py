"""End to end through the real Asterisk (the lab): lotse routing vs. a static dialplan.

    python -m bench.bench_e2e [--calls 300] [--concurrency 100]

Two rounds of three runs: the static dialplan, lotse serve started with flags, and lotse serve as its systemd unit
starts it (``lotse --settings FILE serve``, the installed layout); lotse serve restarts between runs.

Needs root and the lab (asterisk/lab provision). Every call: a caller to the
Jobcenter's number presses 1 (Bürgergeld) after 4 s, during the greeting, and
hangs up 3 s later; its queue has no caller limit, so every call joins it.
With lotse, the dialplan runs the FastAGI IVR; the baseline context
lotse-lab-static-inbound does the same steps as a hand-written dialplan
(Background of the same prompts, WaitExten, the same 17 variables, the same
dispatch). Calls are kept at the given concurrency. Measured: Asterisk's CPU
(user+system from /proc) per call, lotse serve's CPU per call, and per call
the time from Originate to QueueCallerJoin and from the key (DTMFEnd on the
IVR channel) to QueueCallerJoin.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.bench_fastagi import cpu_seconds
from tests.integration.lab import PROMPTS_IN_ASTERISK, ROOT, Ami, Event, lab, lotse_serve, new_caller

PRETEND = "2026-11-23 10:00"


def asterisk_pid() -> int:
    out = subprocess.run(["pgrep", "-f", "asterisk -C /etc/lotse-lab/asterisk.conf"], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


async def run_calls(context: str, calls: int, concurrency: int) -> tuple[list[float], list[float], int]:
    """Place calls keeping `concurrency` in flight; returns start->join and key->join seconds, and calls joined."""
    started: dict[str, float] = {}
    async with Ami("lab", "lab-measure-2026") as ami:

        def finished() -> int:
            return sum(1 for e in ami.events if e.get("Event") == "Hangup" and _caller(e, context) and e["Channel"].endswith(";2"))

        placed, deadline = 0, time.monotonic() + 300
        while (done := finished()) < calls:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{done} of {calls} calls finished in 300 s")
            while placed < calls and placed - done < concurrency:
                caller = new_caller("0571")
                started[caller] = time.perf_counter()
                placed += 1
                await ami.manager.send_action(
                    {
                        "Action": "Originate",
                        "Channel": f"Local/{caller}*057138850@{context}",
                        "Context": "lotse-lab-bench-caller",
                        "Exten": "1",
                        "Priority": "1",
                        "Async": "true",
                    }
                )
            await asyncio.sleep(0.05)
        joined: dict[str, float] = {}
        keyed: dict[str, float] = {}
        for event in ami.events:
            who = _caller(event, context)
            if who is None:
                continue
            if event.get("Event") == "QueueCallerJoin":
                joined.setdefault(who, float(event["_arrived"]))
            elif event.get("Event") == "DTMFEnd" and event.get("Direction") == "Received" and event["Channel"].endswith(";2"):
                keyed.setdefault(who, float(event["_arrived"]))
    start_join = [joined[c] - started[c] for c in joined if c in started]
    key_join = [joined[c] - keyed[c] for c in joined if c in keyed]
    return start_join, key_join, len(joined)


def _caller(event: Event, context: str) -> str | None:
    """The caller number of an event on the IVR side of a bench call: Local/<caller>*<number>@<context>-...;2."""
    channel = event.get("Channel", "")
    if f"@{context}-" not in channel:
        return None
    return channel.removeprefix("Local/").split("*", 1)[0]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def installed_settings(folder: Path) -> Path:
    """The settings file of the installed layout (lotse init's keys), with what the flags of the other run give."""
    path = folder / "lotse.yaml"
    text = f"config: {ROOT / 'config'}\nserve:\n  prompts: {PROMPTS_IN_ASTERISK}\n  port: 4573\n"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    lab("prepare", str(ROOT / "config"))
    pid = asterisk_pid()
    with tempfile.TemporaryDirectory() as tmp:
        settings = installed_settings(Path(tmp))
        for name, context, layout in [*ROUND, *ROUND]:
            with lotse_serve(ROOT / "config", PRETEND, Path(tmp) / "lotse.log", settings=settings if layout else None) as server:
                cpu, lotse_cpu = cpu_seconds(pid), cpu_seconds(server.pid)
                wall = time.perf_counter()
                start_join, key_join, joined = asyncio.run(run_calls(context, args.calls, args.concurrency))
                wall = time.perf_counter() - wall
                per_call = (cpu_seconds(pid) - cpu) / args.calls * 1000
                lotse_per_call = (cpu_seconds(server.pid) - lotse_cpu) / args.calls * 1000
            print(
                f"{name:9s}: {args.calls} calls at {args.concurrency} concurrent in {wall:.1f} s, {joined} joined the queue;"
                f" Asterisk CPU {per_call:.2f} ms/call, lotse serve CPU {lotse_per_call:.2f} ms/call;"
                f" start->join p50 {statistics.median(start_join):.3f} s p99 {percentile(start_join, 0.99):.3f} s;"
                f" key->join p50 {statistics.median(key_join) * 1000:.0f} ms p99 {percentile(key_join, 0.99) * 1000:.0f} ms"
            )


# static dialplan; lotse serve with flags; lotse serve as its unit runs it (settings file), each round in this order
ROUND = (("static", "lotse-lab-static-inbound", False), ("flags", "lotse-lab-inbound", False), ("installed", "lotse-lab-inbound", True))


if __name__ == "__main__":
    main()
