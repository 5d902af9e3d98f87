"""What the listener's tests share: a call's AMI events, a listener on a fake AMI server, waiting for its state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from prometheus_client import generate_latest

from metrics.exporter import Exporter
from metrics.listener import AmiSettings, ListenerSettings, MetricsListener
from routing.loader import load_or_raise
from stores.live import LiveState
from tests.conftest import EXAMPLE
from tests.fakes import FakeAmi

CENTER = load_or_raise(EXAMPLE)
FAST = {"first_retry": 0.05, "max_retry": 0.2}


async def until(what: str, check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for a condition of the system under test (polled: the listener has no hook for every state)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.02)


def call_events(uid: str, dialled: str = "0571890", answered: bool = True) -> list[dict[str, str]]:
    """A call that lotse routes to buergerservice and an agent answers (or the caller abandons)."""
    var = {"Event": "VarSet", "Uniqueid": uid, "Channel": f"Local/c-{uid};2"}
    events = [
        {**var, "Variable": "__LOTSE_DIALLED", "Value": dialled, "Context": "lotse-incoming", "CallerIDNum": "057112345"},
        *({**var, "Variable": k, "Value": v} for k, v in [("__LOTSE_TENANT", "minden"), ("__LOTSE_ENTRY", "own")]),
        *({**var, "Variable": k, "Value": v} for k, v in [("__LOTSE_TOPIC", "ausweis"), ("LOTSE_OUTCOME", "queue")]),
        {"Event": "QueueCallerJoin", "Uniqueid": uid, "Queue": "buergerservice", "Position": "1", "Count": "1"},
    ]
    if answered:
        events += [
            {"Event": "QueueCallerLeave", "Uniqueid": uid, "Queue": "buergerservice", "Count": "0"},
            {"Event": "AgentConnect", "Uniqueid": uid, "Queue": "buergerservice", "MemberName": "Anna", "Interface": "PJSIP/anna"},
            {"Event": "AgentComplete", "Uniqueid": uid, "Queue": "buergerservice", "TalkTime": "20", "MemberName": "Anna"},
        ]
    else:
        events.append({"Event": "QueueCallerAbandon", "Uniqueid": uid, "Queue": "buergerservice", "HoldTime": "40"})
    return [*events, {"Event": "Hangup", "Uniqueid": uid, "Cause": "16"}]


def make(tmp_path: Path, ami_port: int, db_url: str | None = None, live: LiveState | None = None, **extra: object) -> MetricsListener:
    settings = ListenerSettings(db_url or f"sqlite:///{tmp_path / 'calls.db'}", tmp_path / "records.spool", **FAST, **extra)  # type: ignore[arg-type]
    return MetricsListener(AmiSettings(port=ami_port, secret="s3cret", **FAST), settings, Exporter(CENTER), live)  # type: ignore[arg-type]


Scenario = Callable[[FakeAmi, int], Awaitable[None]]


def with_ami(scenario: Scenario, start: bool = True) -> None:
    async def main() -> None:
        ami = FakeAmi()
        port = await ami.start()
        if not start:
            await ami.stop()
        try:
            await scenario(ami, port)
        finally:
            await ami.stop()

    asyncio.run(main())


def metric(exporter: Exporter, name: str) -> float:
    for line in generate_latest(exporter.registry).decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")
