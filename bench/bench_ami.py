"""AMI benchmark: events/s turned into records and metrics, vs a raw asyncio AMI reader.

    python -m bench.bench_ami [--calls 2000]

A fake AMI server on 127.0.0.1 replays the seven event sequences captured
from the lab Asterisk (tests/data/ami), each call with fresh unique ids,
to (a) lotse's MetricsListener (panoramisk, tracker, Prometheus exporter,
SQLite store) and (b) a raw asyncio reader that only splits the events into
dicts. Measured: events/s until the last event is processed, median of 3.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from metrics.exporter import Exporter
from metrics.listener import AmiSettings, ListenerSettings, MetricsListener
from routing.loader import load_or_raise

ROOT = Path(__file__).resolve().parent.parent
SEQUENCES = [
    [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for path in sorted((ROOT / "tests/data/ami").glob("*.jsonl"))
]


def stream(calls: int) -> tuple[bytes, int]:
    """The AMI bytes of `calls` calls (the captured sequences with fresh ids) and the event count."""
    chunks, events = [], 0
    for n in range(calls):
        for event in SEQUENCES[n % len(SEQUENCES)]:
            lines = []
            for key, value in event.items():
                shown = f"{n}.{value}" if key in ("Uniqueid", "Linkedid") else value
                lines.append(f"{key}: {shown}")
            chunks.append(("\r\n".join(lines) + "\r\n\r\n").encode())
            events += 1
    chunks.append(b"Event: BenchDone\r\n\r\n")
    return b"".join(chunks), events + 1


async def fake_ami(port: int, payload: bytes, ready: asyncio.Event) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        await writer.drain()
        while True:  # answer the login (and any other action) with Success
            block = await reader.readuntil(b"\r\n\r\n")
            action_id = next((ln.split(b": ", 1)[1] for ln in block.split(b"\r\n") if ln.lower().startswith(b"actionid")), b"")
            writer.write(b"Response: Success\r\nActionID: " + action_id + b"\r\nMessage: Authentication accepted\r\n\r\n")
            await writer.drain()
            if b"login" in block.lower():
                break
        try:
            while not ready.is_set():  # CoreShowChannels after the login: an empty list
                block = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5)
                action_id = next((ln.split(b": ", 1)[1] for ln in block.split(b"\r\n") if ln.lower().startswith(b"actionid")), b"")
                writer.write(b"Response: Success\r\nActionID: " + action_id + b"\r\nEventList: start\r\nMessage: follows\r\n\r\n")
                writer.write(b"Event: CoreShowChannelsComplete\r\nActionID: " + action_id + b"\r\nEventList: Complete\r\n\r\n")
        except TimeoutError:
            pass
        await ready.wait()
        writer.write(payload)
        await writer.drain()
        try:
            await reader.read()
        except asyncio.CancelledError:  # the bench is over
            return

    return await asyncio.start_server(handle, "127.0.0.1", port)


async def run_lotse(payload: bytes, port: int, calls: int) -> float:
    ready = asyncio.Event()
    server = await fake_ami(port, payload, ready)
    center = load_or_raise(ROOT / "config")
    with tempfile.TemporaryDirectory() as tmp:
        settings = ListenerSettings(f"sqlite:///{tmp}/calls.db", Path(tmp) / "records.spool")
        listener = MetricsListener(AmiSettings(port=port, secret="x"), settings, Exporter(center))
        await listener.start()
        await listener.link.ready.wait()
        start = time.perf_counter()
        ready.set()
        while listener.written < calls:  # every record in the database (polled every 5 ms)
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - start
        assert listener.written == calls and listener.tracker.skipped == 0, listener.health()
        await listener.close()
    server.close()
    return elapsed


async def run_raw(payload: bytes, port: int) -> float:
    ready = asyncio.Event()
    server = await fake_ami(port, payload, ready)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    writer.write(b"Action: Login\r\nUsername: x\r\nSecret: x\r\nActionID: 1\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    start = time.perf_counter()
    ready.set()
    while True:
        block = await reader.readuntil(b"\r\n\r\n")
        event = dict(line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line)
        if event.get("Event") == "BenchDone":
            break
    elapsed = time.perf_counter() - start
    writer.close()
    server.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    payload, events = stream(args.calls)
    raw = statistics.median(asyncio.run(run_raw(payload, 15038 + n)) for n in range(3))
    lotse = statistics.median(asyncio.run(run_lotse(payload, 15048 + n, args.calls)) for n in range(3))
    print(f"{args.calls} calls, {events} events ({len(payload) / 1e6:.1f} MB)")
    print(f"raw reader:   {events / raw:9.0f} events/s ({raw:.2f} s)")
    print(f"lotse metrics: {events / lotse:9.0f} events/s ({lotse:.2f} s), all {args.calls} records written; ratio {lotse / raw:.1f}")


if __name__ == "__main__":
    main()
