"""The lab for integration tests: the real Asterisk (asterisk/lab), lotse serve, AMI."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from panoramisk import Manager

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "asterisk" / "lab"
LOTSE = Path(sys.executable).with_name("lotse")
PROMPTS_IN_ASTERISK = "/var/lib/lotse-lab/prompts"
Event = dict[str, str]
_callers = itertools.count(1000)


def lab(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([str(LAB), *args], capture_output=True, text=True, check=False, env={**os.environ, **(env or {})})
    if result.returncode != 0:
        raise RuntimeError(f"asterisk/lab {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def lab_root() -> Path:
    return Path(lab("root").strip())


def lab_state() -> Path:
    """asterisk/lab's own folder (the rendered config in conf/)."""
    return Path(os.environ.get("LOTSE_LAB_STATE", "/var/lib/lotse/lab"))


def wait_port(port: int, up: bool = True, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} not {'open' if up else 'closed'} after {timeout} s")


@contextmanager
def lotse_serve(
    config: Path,
    pretend: str | None,
    log: Path,
    redis_url: str | None = None,
    journal: Path | None = None,
    port: int = 4573,
    settings: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run lotse serve on the default FastAGI port (or the lab's second node's, 4574) for the duration of the block.
    With ``settings``, as its systemd unit runs it: ``lotse --settings FILE serve``, everything else from the file."""
    argv = [str(LOTSE), "--settings", str(settings), "serve"] if settings else [str(LOTSE), "serve", "--config", str(config)]
    if not settings:
        argv += ["--prompts", PROMPTS_IN_ASTERISK, "--port", str(port)]
    if redis_url:
        argv += ["--redis", redis_url]
    if journal:
        argv += ["--journal", str(journal)]
    if pretend:
        argv += ["--pretend-time", pretend]
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port)
        if process.poll() is not None:
            raise RuntimeError(f"lotse serve exited ({process.returncode}); see {log}")
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=40)
        wait_port(port, up=False)


@contextmanager
def running(argv: list[str], log: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """A lotse process (with the lab's AMI secret) for the duration of the block, once its port is open."""
    env = {**os.environ, "LOTSE_AMI_SECRET": "lab-ami-2026-secret"}
    with log.open("ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_port(port, timeout=20)
        yield process
    finally:
        process.terminate()
        process.wait(20)


def new_caller(prefix: str) -> str:
    """A caller number unique in this test run, to find its call's events."""
    return f"{prefix}{next(_callers):06d}{os.getpid() % 100:02d}"


class Ami:
    """An AMI connection that keeps every event, to wait for the ones a test expects."""

    def __init__(self, user: str = "lab", secret: str = "lab-measure-2026", port: int = 5038) -> None:
        """As the lab's own user (all classes: it places the calls); lotse's rendered user may not Originate.
        ``port``: the lab's Asterisk (5038) or its second node's (5039, asterisk/lab second)."""
        self.events: list[Event] = []
        self.changed = asyncio.Condition()
        self.manager = Manager(host="127.0.0.1", port=port, username=user, secret=secret, ping_delay=0)

    async def __aenter__(self) -> Ami:
        self.manager.register_event("*", self._on_event)
        await self.manager.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.manager.close()

    async def _on_event(self, manager: Manager, message: Any) -> None:
        event = {str(k): (v if isinstance(v, str) else ",".join(map(str, v))) for k, v in dict(message).items()}
        event["_arrived"] = repr(time.perf_counter())  # for latency figures (bench/bench_e2e.py)
        async with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    async def wait_for(self, what: str, match: Callable[[Event], bool], timeout: float = 60.0) -> Event:
        async def find() -> Event:
            async with self.changed:
                while True:
                    for event in self.events:
                        if match(event):
                            return event
                    await self.changed.wait()

        try:
            return await asyncio.wait_for(find(), timeout)
        except TimeoutError:
            names = sorted({e.get("Event", "?") for e in self.events})
            raise AssertionError(f"no {what} within {timeout} s; events seen: {', '.join(names)}") from None

    async def call(self, number: str, caller: str, keys: str = "", context: str = "lotse-lab-caller") -> None:
        """A caller (a context of asterisk/lab-conf/extensions_lab.conf) dials number and presses keys."""
        response = await self.manager.send_action(
            {
                "Action": "Originate",
                "Channel": f"Local/{caller}*{number}@lotse-lab-inbound",
                "Context": context,
                "Exten": keys or "silent",
                "Priority": "1",
                "Async": "true",
            }
        )
        first = response[0] if isinstance(response, list) else response  # async Originate: response + OriginateResponse
        assert first.success, f"Originate refused: {dict(first)}"

    async def decision(self, caller: str, timeout: float = 60.0) -> dict[str, str]:
        """The LOTSE_* variables lotse set, once the dialplan carries out the decision (AGI done)."""
        await self.wait_for(f"dispatch of {caller}'s call", of(caller, "Newexten", Context="lotse-dispatch"), timeout)
        return {_var(e, caller).lstrip("_"): e.get("Value", "") for e in self.events if _var(e, caller).lstrip("_").startswith("LOTSE_")}


def _var(event: Event, caller: str) -> str:
    if event.get("Event") != "VarSet" or caller not in event.get("Channel", ""):
        return ""
    return event.get("Variable", "")


def of(caller: str, name: str, **fields: str) -> Callable[[Event], bool]:
    """Match events named ``name`` on the caller's channels with the given fields."""

    def match(event: Event) -> bool:
        if event.get("Event") != name:
            return False
        if caller not in " ".join(event.get(k, "") for k in ("Channel", "CallerIDNum", "ConnectedLineNum", "DestChannel")):
            return False
        return all(event.get(k) == v for k, v in fields.items())

    return match
