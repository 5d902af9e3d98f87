"""What every long-running process does for its operators: systemd's notifications, /health and /metrics, log lines.

lotse serve runs as a real process here (a real FastAGI port, systemd's notification socket played by a datagram
socket of the test); the health of lotse metrics and lotse promises is checked in-process.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from lotse.cli import main
from promises.worker import Keeper, KeeperSettings
from runtime.endpoint import LogTally, app, registry
from runtime.process import JSON_FIELDS, JsonFormatter, Notifier
from runtime.promises import STUCK_AFTER
from runtime.promises import health as promises_health
from tests.conftest import EXAMPLE, ROOT

LOTSE = Path(sys.executable).parent / "lotse"
MONDAY = 1795424400.0  # 2026-11-23 10:00 in Berlin: log lines are stamped from the record, not the wall clock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[socket.socket]:
    """systemd's side of the notification protocol: a datagram socket that collects what the process says."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(10)
        yield sock


def said(sock: socket.socket) -> str:
    return sock.recv(4096).decode()


def test_the_notifier_says_ready_keeps_the_watchdog_fed_and_says_stopping(systemd: socket.socket) -> None:
    async def scenario() -> None:
        notifier = Notifier(systemd.getsockname(), watchdog_usec=100_000)  # pings every 50 ms
        notifier.ready("routing calls")
        await asyncio.sleep(0.18)
        notifier.stopping()

    asyncio.run(scenario())
    systemd.settimeout(0.5)
    messages = []
    try:
        while True:
            messages.append(said(systemd))
    except TimeoutError:
        pass
    assert messages[0] == "READY=1\nSTATUS=routing calls" and messages[-1] == "STOPPING=1"
    assert 3 <= messages.count("WATCHDOG=1") <= 5 and set(messages[1:-1]) == {"WATCHDOG=1"}


def test_without_systemd_the_notifier_does_nothing() -> None:
    async def scenario() -> None:
        notifier = Notifier()
        notifier.ready()
        notifier.stopping()

    asyncio.run(scenario())


def test_a_json_log_line_has_the_fixed_fields_in_the_centers_time() -> None:
    formatter = JsonFormatter(ZoneInfo("Europe/Berlin"))
    record = logging.LogRecord("lotse.serve", logging.INFO, __file__, 1, "[%s] to %s: routed", ("1.1", "0571890"), None)
    record.created = MONDAY
    record.__dict__.update(call="1.1", tenant="minden", outcome="queue", reason="in_hours")
    line = json.loads(formatter.format(record))
    assert tuple(line) == JSON_FIELDS
    assert line == {
        "time": "2026-11-23 10:00:00 CET",
        "level": "info",
        "logger": "lotse.serve",
        "message": "[1.1] to 0571890: routed",
        "call": "1.1",
        "tenant": "minden",
        "outcome": "queue",
        "reason": "in_hours",
    }
    other = logging.LogRecord("lotse.metrics", logging.WARNING, __file__, 1, "AMI down", (), None)
    assert json.loads(formatter.format(other))["call"] is None  # a line about no call: the fields are there, null


def serve(tmp_path: Path, listen: int, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "200000"}
    argv = [str(LOTSE), "serve", "--config", str(EXAMPLE), "--port", "0", "--listen", f"127.0.0.1:{listen}", *extra]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_lotse_serve_tells_systemd_answers_health_and_metrics_and_stops_cleanly(tmp_path: Path, systemd: socket.socket) -> None:
    port = free_port()
    process = serve(tmp_path, port, "--log-format", "json")
    try:
        assert said(systemd).startswith("READY=1\nSTATUS=routing calls for ")
        assert said(systemd) == "WATCHDOG=1"
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        assert health.status_code == 200 and health.json()["status"] == "up" and health.json()["listening"] is True
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        for line in ("lotse_serve_up 1.0", "lotse_serve_calls_total 0.0", 'lotse_log_messages_total{level="error"} 0.0'):
            assert line in metrics
        assert "process_resident_memory_bytes" in metrics and "process_start_time_seconds" in metrics
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    finally:
        process.kill()
    messages = []
    systemd.settimeout(0.2)
    try:
        while True:
            messages.append(said(systemd))
    except TimeoutError:
        pass
    assert "STOPPING=1" in messages
    lines = [json.loads(line) for line in process.stderr.read().splitlines()] if process.stderr else []
    assert lines and all(tuple(line) == JSON_FIELDS for line in lines)
    assert any(line["message"].startswith("FastAGI listening on 127.0.0.1:") for line in lines)
    zones = {line["time"].rsplit(" ", 1)[1] for line in lines}
    assert len(zones) == 1 and zones != {"UTC"}, zones  # every line in the center's time zone (CET or CEST), from the first


def test_a_busy_health_port_is_logged_and_lotse_serve_routes_on(tmp_path: Path, systemd: socket.socket) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = serve(tmp_path, taken.getsockname()[1])
        try:
            assert said(systemd).startswith("READY=1")  # ready all the same: calls before checks
            process.send_signal(signal.SIGTERM)
            assert process.wait(10) == 0
        finally:
            process.kill()
    log = process.stderr.read() if process.stderr else ""
    assert "health and metrics not served on 127.0.0.1:" in log and "routing goes on" in log


def test_the_endpoint_says_down_with_503_and_why(tmp_path: Path) -> None:
    tally = LogTally()
    problems: list[str] = []
    application = app(registry(tally), lambda: {"ami": "down", "problems": problems}, tally)

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://lotse") as client:
            up = await client.get("/health")
            problems.append("AMI link down: callbacks wait until it is back")
            tally.handle(logging.LogRecord("lotse", logging.ERROR, __file__, 1, "AMI refused the login", (), None))
            return up, await client.get("/health")

    up, down = asyncio.run(scenario())
    assert up.status_code == 200 and up.json()["status"] == "up"
    assert down.status_code == 503
    assert down.json()["status"] == "down" and down.json()["problems"] == ["AMI link down: callbacks wait until it is back"]
    assert down.json()["last_error"] == "AMI refused the login"


def test_lotse_promises_is_down_without_ami_or_database_and_stuck_without_rounds(tmp_path: Path) -> None:
    keeper = Keeper(KeeperSettings(config=EXAMPLE, db_url=f"sqlite:///{tmp_path / 'p.db'}", spool=tmp_path))
    now = time.time()
    problems = promises_health(keeper, now)["problems"]
    assert [p.split(":")[0] for p in problems] == [f"AMI link {keeper.link.state}", "database not open"]
    keeper.last_round = now - STUCK_AFTER - 5
    assert promises_health(keeper, now)["problems"][-1] == f"stuck: no round finished for {STUCK_AFTER + 5:.0f} s"


@pytest.mark.services  # lotse web reads the live state from the real Redis
def test_lotse_web_stops_with_0_on_sigterm(tmp_path: Path, systemd: socket.socket) -> None:
    users = tmp_path / "users.yaml"
    assert main(["user", "wand", "--users", str(users), "--role", "viewer"], io.StringIO(), environ={"LOTSE_WEB_PASSWORD": "w" * 16}) == 0
    port = free_port()
    argv = [str(LOTSE), "web", "--config", str(EXAMPLE), "--agents", str(ROOT / "asterisk/agents.example.yaml"), "--users", str(users)]
    argv += ["--db", f"sqlite:///{tmp_path / 'calls.db'}", "--listen", f"127.0.0.1:{port}"]
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify")}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert said(systemd) == "READY=1\nSTATUS=serving pages"
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0  # not -15: systemd and an admin see a clean stop
    finally:
        process.kill()
