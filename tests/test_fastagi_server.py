"""lotse serve in-process: a fake Asterisk (tests.fakes.agi_call) against the real server over loopback."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import struct
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import uvloop

from ivr import connection
from ivr.fastagi import LOOPBACK, IvrServer, ServerSettings, allowed, parse_allow
from pbx import journal
from tests.conftest import BOMB, EXAMPLE, at
from tests.fakes import agi_call, variables_set

MONDAY = at("2026-11-23 10:00")
Scenario = Callable[[IvrServer], Awaitable[None]]


@pytest.fixture(autouse=True, params=["asyncio", "uvloop"])
def event_loop_kind(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test on asyncio's own loop and on uvloop, lotse serve's default (their transports differ)."""
    if request.param == "uvloop":
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    yield request.param
    asyncio.set_event_loop_policy(None)


def run_server(settings: ServerSettings, scenario: Scenario) -> None:
    async def main() -> None:
        server = IvrServer(settings, clock=lambda: MONDAY)
        await server.start()
        try:
            await scenario(server)
        finally:
            await server.close()

    asyncio.run(main())


def settings(config: Path = EXAMPLE, **overrides: object) -> ServerSettings:
    return ServerSettings(config=config, port=0, **overrides)  # type: ignore[arg-type]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


def test_a_call_is_routed_by_the_fake_asterisk() -> None:
    async def scenario(server: IvrServer) -> None:
        call = await agi_call(server.port, keys="1")
        assert call.variables["LOTSE_OUTCOME"] == "queue"
        assert call.variables["LOTSE_QUEUE"] == "buergerservice"
        assert call.variables["LOTSE_TOPIC_NAME"] == "Personalausweis und Reisepass"

    run_server(settings(), scenario)


@pytest.mark.parametrize("value", ["bogus", "localhost", "10.0.0.300", "10.0.0.0/33"])
def test_allow_rejects_what_is_not_an_address(value: str) -> None:
    with pytest.raises(ValueError, match=f"'{value}' is not an IP address or network"):
        parse_allow([value])


def test_allow_accepts_networks() -> None:
    networks = parse_allow(["192.0.2.0/24", "2001:db8::1"])
    assert allowed("192.0.2.77", networks) and allowed("2001:db8::1", networks)
    assert not allowed("192.0.3.1", networks) and not allowed("garbage", networks)
    assert allowed("127.0.0.5", LOOPBACK) and allowed("::ffff:127.0.0.1", LOOPBACK) and allowed("::1", LOOPBACK)


def test_refused_peers_are_logged_once_then_summarised(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(server: IvrServer) -> None:
        for _ in range(200):
            call = await agi_call(server.port)
            assert call.closed_by_lotse and not call.commands
        assert server.counters.rejected_peers == 200

    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        run_server(settings(allow=parse_allow(["192.0.2.0/24"])), scenario)
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused == ["FastAGI connection from 127.0.0.1 refused: not in the allowlist (--allow)"]


async def send_raw(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 2.0)  # lotse closes at once, long before its 5 s header timeout
    writer.close()
    return answer


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"".join(b"agi_x%d: y\n" % n for n in range(1000)), "the AGI environment is larger than 200 lines or 32768 bytes"),
        (b"agi_callerid: " + b"1" * 20000 + b"\n\n", "an AGI environment line is longer than 8192 bytes"),
        (b"agi_network_script: lotse\nagi_uniqueid: " + b"9" * 300 + b"\n\n", "agi_uniqueid is 300 characters long (at most 256)"),
        (b"agi_network_script: lotse\n\n", "the AGI environment has no agi_uniqueid"),
    ],
)
def test_oversized_or_broken_environments_are_dropped_at_once(data: bytes, message: str, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(server: IvrServer) -> None:
        assert await send_raw(server.port, data) == b""

    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        run_server(settings(), scenario)
    assert f"FastAGI request from 127.0.0.1 dropped: {message}" in caplog.messages
    assert not tracebacks(caplog)


def test_a_caller_id_too_long_routes_like_a_hidden_number() -> None:
    async def scenario(server: IvrServer) -> None:
        call = await agi_call(server.port, caller="0" * 41, keys="1")
        assert call.variables["LOTSE_OUTCOME"] == "queue" and call.variables["LOTSE_CALLER"] == ""

    run_server(settings(), scenario)


def test_header_timeout_names_the_reason(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(connection, "HEADER_TIMEOUT", 0.2)

    async def scenario(server: IvrServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: lotse\n")
        assert await asyncio.wait_for(reader.read(), 2.0) == b""
        writer.close()

    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        run_server(settings(), scenario)
    assert "FastAGI request from 127.0.0.1 dropped: no complete AGI environment within 0 s" in caplog.messages


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset, as a crashed Asterisk would."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def test_a_connection_reset_is_one_line_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(server: IvrServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: lotse\nagi_uniqueid: 17.1\nagi_arg_1: 0571890\n\n")
        await reader.readline()  # lotse's first command: the greeting
        reset(writer)
        for _ in range(100):
            if server.counters.calls_active == 0:
                break
            await asyncio.sleep(0.01)
        assert server.counters.calls_active == 0 and server.counters.calls_failed == 0

    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        run_server(settings(), scenario)
    assert not tracebacks(caplog)
    assert any(m.startswith("[17.1] AGI connection lost (") and m != "[17.1] AGI connection lost ()" for m in caplog.messages)


def test_a_reload_during_a_call_applies_to_the_next_call_only(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)
    center = config / "center.yaml"

    async def scenario(server: IvrServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: lotse\nagi_uniqueid: 17.2\nagi_callerid: 057112345\nagi_arg_1: 0571890\n\n")
        first = await reader.readline()  # the call runs: lotse sent its first command
        assert first.startswith(b"STREAM FILE")
        center.write_text(center.read_text(encoding="utf-8").replace("Personalausweis und Reisepass", "Ausweise"), encoding="utf-8")
        assert (await server.reload_async()).center is not None
        variables: dict[str, str] = {}
        writer.write(b"200 result=49 endpos=1\n")  # key 1 on the greeting
        while line := await reader.readline():
            text = line.decode()
            if text.startswith("SET VARIABLE "):
                variables.update(variables_set(text))
            writer.write(b"200 result=0 endpos=1\n" if not text.startswith("SET") else b"200 result=1\n")
        writer.close()
        assert variables["LOTSE_TOPIC_NAME"] == "Personalausweis und Reisepass"
        assert (await agi_call(server.port, keys="1")).variables["LOTSE_TOPIC_NAME"] == "Ausweise"

    run_server(settings(config), scenario)


def test_an_alias_bomb_reload_is_refused_and_calls_go_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLE, config)

    async def scenario(server: IvrServer) -> None:
        (config / "bomb.yaml").write_text(BOMB, encoding="utf-8")
        reload = asyncio.create_task(server.reload_async())
        call = await agi_call(server.port, keys="1")  # answered while the reload runs in its thread
        assert call.variables["LOTSE_OUTCOME"] == "queue"
        assert (await reload).center is None

    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        run_server(settings(config), scenario)
    assert any("YAML aliases expand to more than 10000 values" in m for m in caplog.messages)


def test_calls_cut_at_shutdown_are_logged_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        server = IvrServer(settings(grace_seconds=0.1), clock=lambda: MONDAY)
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: lotse\nagi_uniqueid: 17.3\nagi_arg_1: 0571890\n\n")
        await reader.readline()  # a caller who is still listening when lotse stops
        await server.close()
        writer.close()

    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        asyncio.run(main())
    assert "[17.3] call cut: lotse stopped after its 0 s grace period; the dialplan falls back" in caplog.messages
    assert not tracebacks(caplog)


def test_a_hanging_redis_fails_open_with_a_named_reason(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        hang = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = hang.sockets[0].getsockname()[1]
        server = IvrServer(settings(redis_url=f"redis://127.0.0.1:{port}/0"), clock=lambda: MONDAY)
        await server.start()
        for _ in range(3):
            call = await agi_call(server.port, keys="1")
            assert call.variables["LOTSE_QUEUE"] == "buergerservice"
        await server.close()
        hang.close()

    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        asyncio.run(main())
    warnings = [m for m in caplog.messages if m.startswith("live facts unavailable")]
    assert len(warnings) == 1 and not warnings[0].endswith(": ")


def test_the_call_line_names_keys_and_why_a_call_was_closed(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(server: IvrServer) -> None:
        await agi_call(server.port, keys="91")  # 9 is no option of Minden's menu, then 1

    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        run_server(settings(), scenario)
    (line,) = [m for m in caplog.messages if "to 0571890:" in m]
    assert line.endswith(": minden/ausweis -> queue buergerservice (in_hours) keys 9? 1")

    async def christmas() -> None:
        server = IvrServer(settings(), clock=lambda: at("2026-12-25 10:00"))
        await server.start()
        await agi_call(server.port)
        await server.close()

    caplog.clear()
    with caplog.at_level(logging.INFO, "lotse.fastagi"):
        asyncio.run(christmas())
    (line,) = [m for m in caplog.messages if "to 0571890:" in m]
    assert "-> hangup  (holiday) closed: " in line and "Weihnacht" in line


def test_each_session_is_journaled_for_lotse_metrics(tmp_path: Path) -> None:
    path = tmp_path / "journal"

    async def scenario(server: IvrServer) -> None:
        await agi_call(server.port, keys="1")
        await agi_call(server.port, caller="", headers={"agi_callingpres": "32"}, hang_up_after=1)  # hidden; gone in the greeting
        route_next = {
            "agi_network_script": "lotse-next",
            **{f"agi_arg_{n}": v for n, v in enumerate(["queue", "kfz", "kreis", "own", "zulassung", ""], 1)},
        }
        await agi_call(server.port, headers=route_next)

    run_server(settings(journal=path), scenario)
    answered, hung_up, resumed = journal.read(path, since=0.0).values()
    assert (answered.dialled, answered.caller, answered.variables["LOTSE_TOPIC"], answered.variables["LOTSE_OUTCOME"]) == (
        "0571890",
        "057112345",
        "ausweis",
        "queue",
    )
    assert answered.started <= answered.ended and answered.variables["LOTSE_TENANT"] == "minden"
    assert (hung_up.caller, hung_up.variables) == ("", {})
    assert resumed.dialled == "" and resumed.variables["LOTSE_TENANT"] == "kreis"
