"""FastAGI benchmark: sessions/s and server CPU per session, lotse vs. a raw handler.

    python -m bench.bench_fastagi [--sessions 2000] [--concurrency 1 50 200] [--rounds 5]

A fake Asterisk plays the AGI side of a typical call to Stadt Minden in
opening hours: environment, 'no key' for the greeting, key 1 during the menu
prompt, 'ok' for every variable. The baseline (bench/raw_fastagi.py) sends the
very same command lines, captured from lotse in this run, without routing.
Server CPU is read from /proc/PID/stat (user+system) around each batch.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.integration.lab import wait_port

ROOT = Path(__file__).resolve().parent.parent
ENV = (
    "agi_network: yes\nagi_network_script: lotse\nagi_request: agi://127.0.0.1/lotse\nagi_channel: PJSIP/trunk-0001\n"
    "agi_language: de\nagi_type: PJSIP\nagi_uniqueid: {uid}\nagi_callerid: 057112345\nagi_calleridname: unknown\n"
    "agi_callingpres: 0\nagi_dnid: 0571890\nagi_context: lotse-route\nagi_extension: s\nagi_priority: 3\nagi_arg_1: 0571890\n\n"
)
TICKS = os.sysconf("SC_CLK_TCK")


def reply(command: bytes) -> bytes:
    if command.startswith(b"STREAM FILE") and b"menus/main/prompt" in command:
        return b"200 result=49 endpos=12000\n"  # key 1 during the menu prompt
    if command.startswith(b"STREAM FILE"):
        return b"200 result=0 endpos=16000\n"
    if command.startswith(b"WAIT FOR DIGIT"):
        return b"200 result=49\n"
    return b"200 result=1\n"


async def one_session(port: int, uid: int, record: list[bytes] | None = None) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(ENV.format(uid=uid).encode())
    commands = 0
    while line := await reader.readline():
        commands += 1
        if record is not None:
            record.append(line)
        writer.write(reply(line))
        await writer.drain()
    writer.close()
    return commands


async def batch(port: int, sessions: int, concurrency: int) -> float:
    counter = iter(range(sessions))

    async def worker() -> None:
        for uid in counter:
            await one_session(port, uid)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(name: str, pid: int, port: int, sessions: int, concurrency: int) -> tuple[float, float]:
    asyncio.run(batch(port, min(200, sessions), concurrency))  # warm up
    cpu = cpu_seconds(pid)
    wall = asyncio.run(batch(port, sessions, concurrency))
    per_session_ms = (cpu_seconds(pid) - cpu) / sessions * 1000
    rate = sessions / wall
    print(f"  {name:9s} concurrency {concurrency:3d}: {rate:7.0f} sessions/s, server CPU {per_session_ms:.3f} ms/session")
    return rate, per_session_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50, 200])
    parser.add_argument("--rounds", type=int, default=5, help="measurements per server and concurrency, interleaved")
    args = parser.parse_args()
    lotse = [str(Path(sys.executable).with_name("lotse")), "serve", "--config", str(ROOT / "config"), "--pretend-time", "2026-11-23 10:00"]
    servers = {  # lotse on uvloop (its default) and on asyncio's own loop, like the raw handler
        "lotse": (subprocess.Popen([*lotse, "--port", "14573"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), 14573),
        "lotse-aio": (
            subprocess.Popen([*lotse, "--port", "14575", "--loop", "asyncio"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
            14575,
        ),
    }
    try:
        wait_port(14573)
        wait_port(14575)
        recorded: list[bytes] = []
        count = asyncio.run(one_session(14573, 0, recorded))
        with tempfile.NamedTemporaryFile("w", suffix=".agi", delete=False) as commands:
            commands.write(b"".join(recorded).decode())
        raw = subprocess.Popen([sys.executable, "-m", "bench.raw_fastagi", "14574", commands.name], cwd=ROOT)
        try:
            wait_port(14574)
            sets = sum(1 for r in recorded if r.startswith(b"SET"))
            print(f"one call = {count} AGI commands ({sets} SET VARIABLE), the same for both")
            pids = {"raw": (raw.pid, 14574), **{name: (p.pid, port) for name, (p, port) in servers.items()}}
            for concurrency in args.concurrency:
                cpu: dict[str, list[float]] = {name: [] for name in pids}
                for _ in range(args.rounds):  # interleaved: a noisy moment hits every server alike
                    for name, (pid, port) in pids.items():
                        cpu[name].append(measure(name, pid, port, args.sessions, concurrency)[1])
                raw_median = statistics.median(cpu["raw"])
                for name in servers:
                    median = statistics.median(cpu[name])
                    rounds = ", ".join(f"{a / b:.2f}" for a, b in zip(cpu[name], cpu["raw"], strict=True))
                    print(
                        f"  median at {concurrency}: {name} {median:.3f} ms vs raw {raw_median:.3f} ms per session:"
                        f" ratio {median / raw_median:.2f} (per round {rounds})"
                    )
        finally:
            raw.terminate()
            raw.wait()
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
