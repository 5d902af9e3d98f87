"""Soak: calls through the lab Asterisk while lotse's dependencies fail, then nothing may be missing.

    python -m bench.soak [--calls 2000] [--rate 2] [--fault-seconds 60]

Needs root and the lab (asterisk/lab provision), PostgreSQL and Redis (scripts/services).
lotse serve (with --redis) and lotse metrics (PostgreSQL, Redis, queue_log, full caller
numbers) run as in production, but reach AMI, PostgreSQL and Redis through TCP proxies of
this script, which cut or stall them. While calls are placed at a steady rate, one fault
after another, each for --fault-seconds:
  1. lotse serve killed (SIGKILL), started again afterwards;
  2. the AMI link of lotse metrics cut (connections closed, new ones refused);
  3. PostgreSQL unreachable for lotse metrics;
  4. Redis hanging (connections accepted, nothing answered) for serve and metrics;
  5. lotse metrics stopped, started again afterwards.
Then it checks, call by call (by the caller's number):
  - every call reached an agent queue (an ENTERQUEUE in Asterisk's queue_log) or the target its
    config names when the queue is full (e.g. a callback request);
  - lotse has exactly one record per call placed, none missing, none twice;
  - the report's figures (offered, answered, answered within 30 s, abandoned, short abandons)
    equal a recount from queue_log, and its ASA agrees within 1 s (queue_log has whole seconds).
Exit status 0 when every check holds; the figures are printed either way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from metrics.kpi import SHORT_ABANDON
from metrics.queue_log import QueueCall, parse
from metrics.report import group_sql
from metrics.store import Store
from routing.loader import load_or_raise
from routing.numbers import caller_key
from tests.integration.lab import LOTSE, PROMPTS_IN_ASTERISK, ROOT, Ami, lab, lab_root, wait_port

CONFIG = ROOT / "config"
PRETEND = "2026-11-23 10:00"  # a Monday morning: the center is open
DATABASE = "lotse_soak"
EXTRA_AGENTS = 40
# extensions of lotse-dispatch other than queue; 'next' asks lotse for a full queue's overflow
TARGETS = ("callback", "voicemail", "department", "hangup", "next")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:{port}/" + DATABASE
KINDS = [  # number dialled, caller prefix, keys, the lab caller's behaviour
    ("0571890", "0571", "1", "lotse-lab-caller"),  # Minden, Personalausweis: answered
    ("115", "05722", "2", "lotse-lab-caller"),  # 115 -> Bückeburg, Abfall: answered
    ("05718070", "0571", "12", "lotse-lab-caller"),  # Kreis, submenu Führerschein
    ("0571890", "0571", "1", "lotse-lab-impatient-caller"),  # hangs up 1 s after joining: a short abandon
]


class Proxy:
    """A TCP proxy on loopback whose link can be cut ('down') or stalled ('hang')."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.mode = "pass"
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def set(self, mode: str) -> None:
        self.mode = mode
        if mode == "down":
            for writer in list(self._open):
                writer.close()
            self._open.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode == "down":
            writer.close()
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.close()
            return
        self._open.update((writer, upstream))
        with contextlib.suppress(asyncio.CancelledError):  # the soak is over: the loop cancels its proxies' links
            await asyncio.gather(self._pump(reader, upstream), self._pump(upstream_reader, writer), return_exceptions=True)
        for end in (writer, upstream):
            self._open.discard(end)
            end.close()

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        while data := await source.read(65536):
            while self.mode == "hang":
                await asyncio.sleep(0.05)
            if self.mode == "down":
                return
            sink.write(data)
            await sink.drain()
        sink.close()


@dataclass
class Soak:
    calls: int
    rate: float
    fault_seconds: float
    workdir: Path
    placed: dict[str, str] = field(default_factory=dict)  # caller number -> kind
    targets: set[str] = field(default_factory=set)  # callers whose call the dialplan carried to a target other than a queue
    faults: list[str] = field(default_factory=list)


def settings_file(soak: Soak, ami: int, pg: int, redis_port: int, queue_log: Path) -> Path:
    """The installed layout: one settings file for both processes, as /etc/lotse/lotse.yaml is for the services."""
    path = soak.workdir / "lotse.yaml"
    path.write_text(
        f"""config: {CONFIG}
journal: {soak.workdir / "journal"}
queue_log: {queue_log}
database:
  url: {POSTGRES.format(port=pg)}
redis:
  url: redis://127.0.0.1:{redis_port}/0
ami:
  address: 127.0.0.1:{ami}
serve:
  prompts: {PROMPTS_IN_ASTERISK}
  grace: 2
metrics:
  spool: {soak.workdir / "records.spool"}
  listen: 127.0.0.1:0
  caller_numbers: full
""",
        encoding="utf-8",
    )
    return path


def unit_argv(command: str, settings: Path) -> list[str]:
    """The command line of systemd/lotse-<command>.service, with this checkout's lotse and the soak's settings file."""
    unit = (ROOT / "systemd" / f"lotse-{command}.service").read_text(encoding="utf-8")
    words = next(line for line in unit.splitlines() if line.startswith("ExecStart=")).removeprefix("ExecStart=").split()
    return [str(LOTSE) if w == "/opt/lotse/bin/lotse" else str(settings) if w == "/etc/lotse/lotse.yaml" else w for w in words]


@contextmanager
def process(argv: list[str], log: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """A process that the soak may kill and start again; the list holds the current one."""
    holder = [start(argv, log)]
    try:
        yield holder
    finally:
        holder[0].send_signal(signal.SIGTERM)
        holder[0].wait(timeout=60)


def start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "LOTSE_AMI_SECRET": "lab-ami-2026-secret"})


def fresh_database() -> None:
    for sql in (f"drop database if exists {DATABASE} with (force)", f"create database {DATABASE}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True, capture_output=True)


async def place_calls(soak: Soak, ami: Ami) -> None:
    numbers = itertools.count(1)
    kinds = itertools.cycle(KINDS)
    for _ in range(soak.calls):
        number, prefix, keys, context = next(kinds)
        caller = f"{prefix}{77_000_000 + next(numbers) * 100 + os.getpid() % 100}"
        soak.placed[caller] = context
        await ami.call(number, caller, keys, context)
        await asyncio.sleep(1 / soak.rate)


async def inject_faults(soak: Soak, serve: list[subprocess.Popen[bytes]], metrics: list[subprocess.Popen[bytes]], proxies: dict[str, Proxy],
                        argv: dict[str, list[str]]) -> None:  # fmt: skip
    gap = max(3.0, (soak.calls / soak.rate - 5 * soak.fault_seconds) / 6)  # faults spread over the traffic
    logs = soak.workdir

    async def fault(name: str, begin: Callable[[], object], end: Callable[[], object]) -> None:
        await asyncio.sleep(gap)
        soak.faults.append(f"{time.strftime('%H:%M:%S')} {name} for {soak.fault_seconds:.0f} s")
        begin()
        await asyncio.sleep(soak.fault_seconds)
        end()

    await fault("lotse serve killed", serve[0].kill, lambda: serve.__setitem__(0, start(argv["serve"], logs / "serve.log")))
    await fault("AMI cut", lambda: proxies["ami"].set("down"), lambda: proxies["ami"].set("pass"))
    await fault("PostgreSQL unreachable", lambda: proxies["pg"].set("down"), lambda: proxies["pg"].set("pass"))
    await fault("Redis hanging", lambda: proxies["redis"].set("hang"), lambda: proxies["redis"].set("pass"))
    await fault(
        "lotse metrics stopped",
        lambda: metrics[0].send_signal(signal.SIGTERM),
        lambda: metrics.__setitem__(0, start(argv["metrics"], logs / "metrics.log")),
    )


async def traffic(soak: Soak, queue_log: Path) -> None:
    proxies = {"ami": Proxy(5038), "pg": Proxy(5432), "redis": Proxy(6379)}
    ports = {name: await proxy.start() for name, proxy in proxies.items()}
    settings = settings_file(soak, ports["ami"], ports["pg"], ports["redis"], queue_log)
    argv = {"serve": [*unit_argv("serve", settings), "--pretend-time", PRETEND], "metrics": unit_argv("metrics", settings)}
    with process(argv["serve"], soak.workdir / "serve.log") as serve, process(argv["metrics"], soak.workdir / "metrics.log") as metrics:
        await asyncio.to_thread(wait_port, 4573)
        async with Ami() as ami:
            await staff(ami, "QueueAdd")
            await asyncio.sleep(2)  # lotse metrics logs in
            try:
                await asyncio.gather(place_calls(soak, ami), inject_faults(soak, serve, metrics, proxies, argv))
                await until_quiet(ami)
            finally:
                await staff(ami, "QueueRemove")
            soak.targets = carried_to_a_target(soak, ami.events)
        await until_recorded(soak)


async def staff(ami: Ami, action: str) -> None:
    """Forty more lab agents per queue (the lab has two): at 2 calls/s, with 10 s wrap-up, callers are answered."""
    for queue in load_or_raise(CONFIG).queues:
        for n in range(EXTRA_AGENTS):
            interface = f"Local/soak{n:02d}@lotse-lab-agents/n"
            member = {"Action": action, "Queue": queue, "Interface": interface, "MemberName": f"Soak {n}"}
            await ami.manager.send_action(member, as_list=False)  # panoramisk would wait for a list after "Added ... to queue"


def carried_to_a_target(soak: Soak, events: list[dict[str, str]]) -> set[str]:
    """Callers whose call Asterisk carried to a configured target that is not a queue (its own AMI events, not lotse's)."""
    found = set()
    for event in events:
        dispatched = event.get("Event") == "Newexten" and event.get("Context") == "lotse-dispatch" and event.get("Exten") in TARGETS
        # a full queue's overflow begins with its announcement: a caller who leaves during it has reached the target
        announced = event.get("Event") == "AGIExecStart" and "/overflow/announcement" in event.get("Command", "")
        if dispatched or announced:
            caller = event.get("Channel", "").removeprefix("Local/").split("*", 1)[0]
            if caller in soak.placed:
                found.add(caller)
    return found


async def until_quiet(ami: Ami, timeout: float = 300) -> None:
    """Until Asterisk has no channel left (every soak call ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = await ami.manager.send_action({"Action": "CoreShowChannels"})
        if not [m for m in (answer if isinstance(answer, list) else [answer]) if m.get("Event") == "CoreShowChannel"]:
            return
        await asyncio.sleep(1)
    raise TimeoutError(f"calls still running after {timeout} s")


async def until_recorded(soak: Soak, timeout: float = 180) -> None:
    store = Store.open(POSTGRES.format(port=5432))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(recorded(store, soak)) < len(soak.placed):
            await asyncio.sleep(1)
    finally:
        store.close()


def recorded(store: Store, soak: Soak) -> list[str]:
    """The placed callers' numbers of the records (records keep the E.164 key form: mapped back)."""
    placed = {caller_key(number): number for number in soak.placed}
    return [placed[r.caller] for r in store.between(0, 2e10) if r.caller in placed]


def check(soak: Soak, queue_log: Path, offset: int) -> list[str]:
    """The failures; empty when every check holds. Prints the figures."""
    center = load_or_raise(CONFIG)
    lines = queue_log.read_bytes()[offset:].decode("utf-8", "replace").splitlines()
    calls = parse(lines).calls
    callers = _callers(lines)
    ours = {uid: call for uid, call in calls.items() if callers.get(uid) in soak.placed and call.entered is not None}
    failures = []
    queued = {callers[uid] for uid in ours}
    store = Store.open(POSTGRES.format(port=5432), center.tz)
    try:
        callers_recorded = recorded(store, soak)
        keys = {caller_key(number): number for number in soak.placed}
        records = [r for r in store.between(0, 2e10) if r.caller in keys]
        ((_, _, kpis),) = group_sql(store, center, min(r.arrived for r in records) - 1, max(r.arrived for r in records) + 1, [], "all")
    finally:
        store.close()
    elsewhere = soak.targets  # e.g. a full queue's overflow: a callback
    if missing := sorted(set(soak.placed) - queued - elsewhere):
        failures.append(f"{len(missing)} call(s) reached neither a queue nor their configured target, e.g. {missing[:3]}")
    twice = len(callers_recorded) - len(set(callers_recorded))
    lost = sorted(set(soak.placed) - set(callers_recorded))
    if lost or twice:
        failures.append(f"records: {len(lost)} call(s) without a record (e.g. {lost[:3]}), {twice} recorded twice")
    recount = _recount(list(ours.values()))
    report = {
        "offered": kpis.offered,
        "answered": kpis.answered,
        "answered within 30 s": kpis.answered_within,
        "abandoned": kpis.abandoned,
        "short abandons": kpis.short_abandoned,
    }
    for name, value in report.items():
        if value != recount[name]:
            failures.append(f"report {name} {value} != queue_log {recount[name]}")
    if kpis.asa is not None and abs(kpis.asa - recount["asa"]) > 1.0:
        failures.append(f"report ASA {kpis.asa:.2f} s != queue_log {recount['asa']:.2f} s")
    distinct = len(set(callers_recorded))
    print(f"calls placed {len(soak.placed)}, reached a queue {len(queued)}, a configured target {len(elsewhere)},"
          f" records {len(callers_recorded)} ({distinct} distinct)")  # fmt: skip
    print("faults: " + "; ".join(soak.faults))
    print("figure                report  queue_log")
    for name, value in report.items():
        print(f"{name:22s}{value:6d}  {recount[name]:9d}")
    print(f"{'ASA (s)':22s}{kpis.asa or 0:6.2f}  {recount['asa']:9.2f}")
    return failures


def _callers(lines: list[str]) -> dict[str, str]:
    """Call id -> the caller's number, from ENTERQUEUE (time|callid|queue|agent|ENTERQUEUE|url|callerid|position)."""
    found = {}
    for line in lines:
        parts = line.split("|")
        if len(parts) >= 7 and parts[4] == "ENTERQUEUE":
            found[parts[1]] = parts[6]
    return found


def _waited(call: QueueCall) -> float:
    """Seconds in the queue of a call no agent answered: ABANDON's wait, else until its last line (timeout, overflow)."""
    if call.waittime is not None:
        return float(call.waittime)
    return float((call.last or 0) - (call.entered or 0))


def _recount(calls: list[QueueCall]) -> dict[str, float]:
    """docs/metrics.md's definitions applied to queue_log alone."""
    answered = [c for c in calls if c.holdtime is not None]
    short = [c for c in calls if c.holdtime is None and _waited(c) < SHORT_ABANDON]
    abandoned = [c for c in calls if c.abandoned and c.holdtime is None and c not in short]
    return {
        "offered": len(calls) - len(short),
        "answered": len(answered),
        "answered within 30 s": sum(1 for c in answered if (c.holdtime or 0) <= 30),
        "abandoned": len(abandoned),
        "short abandons": len(short),
        "asa": sum(c.holdtime or 0 for c in answered) / len(answered) if answered else 0.0,
    }


def run(calls: int, rate: float, fault_seconds: float) -> list[str]:
    """The whole soak; returns the failures (empty: passed)."""
    lab("prepare", str(CONFIG))
    queue_log = lab_root() / "var/log/lotse-lab/queue_log"
    offset = queue_log.stat().st_size if queue_log.exists() else 0
    fresh_database()
    with tempfile.TemporaryDirectory(prefix="lotse-soak-") as tmp:
        soak = Soak(calls, rate, fault_seconds, Path(tmp))
        started = time.monotonic()
        asyncio.run(traffic(soak, queue_log))
        print(f"soak: {calls} calls at {rate:g}/s with 5 faults of {fault_seconds:g} s in {time.monotonic() - started:.0f} s")
        failures = check(soak, queue_log, offset)
        if failures:
            for name in ("serve.log", "metrics.log"):
                print(f"--- {name} (last lines)\n" + "\n".join((soak.workdir / name).read_text(errors="replace").splitlines()[-15:]))
            kept = Path(tempfile.gettempdir()) / "lotse-soak-failed"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(soak.workdir, kept)
            shutil.copy(lab_root() / "var/log/lotse-lab/messages.log", kept / "asterisk-messages.log")
            print(f"soak: logs, journal and spool of this run kept in {kept}")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=2.0, help="calls placed per second")
    parser.add_argument("--fault-seconds", type=float, default=60.0)
    args = parser.parse_args()
    failures = run(args.calls, args.rate, args.fault_seconds)
    for failure in failures:
        print(f"FAILED: {failure}")
    print("soak: all checks hold" if not failures else f"soak: {len(failures)} check(s) failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
