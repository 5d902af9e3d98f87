"""In-process stand-ins for Asterisk: an AGI client for lotse serve, an AMI server for lotse metrics.

Both talk over real loopback sockets, so every server path (allowlist, timeouts, resets,
reload, login failure, reconnect) is tested in seconds and without root, beside the lab
tests that use the real Asterisk.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from pbx import contract as c

HEADERS = {
    "agi_network_script": "lotse",
    "agi_channel": "Local/caller@lotse-incoming-00000001;2",
    "agi_callingpres": "0",
    "agi_arg_1": "0571890",
}
_ids = itertools.count(1)


@dataclass
class AgiCall:
    """What lotse did on one call: the commands it sent and the variables it set."""

    commands: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    closed_by_lotse: bool = False


async def agi_call(
    port: int,
    caller: str = "057112345",
    keys: str = "",
    headers: Mapping[str, str] | None = None,
    hang_up_after: int | None = None,
    keyed: Sequence[str] = (),
) -> AgiCall:
    """Play Asterisk's side of one FastAGI call: send the environment, answer each command.

    ``keys`` are pressed one per prompt or digit wait (the first key on the first prompt);
    ``hang_up_after`` hangs up (as res_agi does: 'HANGUP' then close) after that many commands;
    ``keyed`` are the answers to GET DATA, one per command (a number keyed in).
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    env = {**HEADERS, "agi_uniqueid": f"1700000000.{next(_ids)}", "agi_callerid": caller, **(headers or {})}
    writer.write("".join(f"{k}: {v}\n" for k, v in env.items()).encode() + b"\n")
    await writer.drain()
    call, pending, numbers = AgiCall(), list(keys), list(keyed)
    while True:
        line = await _line(reader)
        if not line:
            call.closed_by_lotse = True
            break
        command = line.decode().rstrip("\n")
        call.commands.append(command)
        if hang_up_after is not None and len(call.commands) > hang_up_after:
            writer.write(b"HANGUP\n")
            await writer.drain()
            break
        if command.startswith("SET VARIABLE "):
            call.variables.update(variables_set(command))
            writer.write(b"200 result=1\n")
        elif command.startswith("GET DATA"):
            writer.write(f"200 result={numbers.pop(0) if numbers else ''} (timeout)\n".encode())
        elif command.startswith(("STREAM FILE", "WAIT FOR DIGIT")) and pending:
            writer.write(f"200 result={ord(pending.pop(0))} endpos=100\n".encode())
        else:
            writer.write(b"200 result=0 endpos=100\n")
        await writer.drain()
    writer.close()
    return call


async def _line(reader: asyncio.StreamReader) -> bytes:
    """The next line; b"" when the other side closed, also with a reset (it closed before reading what was sent)."""
    try:
        return await reader.readline()
    except ConnectionResetError:
        return b""


def variables_set(command: str) -> dict[str, str]:
    """The channel variables a SET VARIABLE command leaves, after the rendered dialplan's lotse-unpack."""
    name, _, value = command.strip()[len("SET VARIABLE ") :].partition(" ")
    text = value.strip('"')
    found = {name.lstrip("_"): text}  # __NAME: inherited by the agent's channel
    if name == c.VAR_DECISION:
        found.update(c.unpack(text))
    return found


Answer = Callable[[dict[str, str]], list[dict[str, str | list[str]]]]


class FakeAmi:
    """An AMI server: banner, Login (with a secret to check), actions answered by handlers, events pushed by the test."""

    def __init__(self, secret: str = "s3cret") -> None:
        self.secret = secret
        self.actions: list[dict[str, str]] = []
        self.handlers: dict[str, Answer] = {"ping": lambda a: [{"Response": "Success", "Ping": "Pong"}]}
        self.logins = 0
        self.refused_logins = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.logged_in = asyncio.Event()

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        bound: int = self._server.sockets[0].getsockname()[1]
        return bound

    async def stop(self) -> None:
        """Go away like a stopped Asterisk: close the listening socket and every session."""
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def drop(self) -> None:
        """Cut every open session (the link drops; the port stays open)."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        self.logged_in.clear()

    async def event(self, **fields: str) -> None:
        """Send one event to every logged-in session."""
        for writer in list(self._writers):
            writer.write(_message(fields))
            await writer.drain()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                action = await _read_message(reader)
                if action is None:
                    break
                self.actions.append(action)
                for reply in self._answer(action, writer):
                    writer.write(_message(reply))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            return  # the client went away, or the test stopped the server
        finally:
            if writer in self._writers:
                self._writers.remove(writer)
            writer.close()

    def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> list[dict[str, str | list[str]]]:
        name, action_id = action.get("Action", "").lower(), action.get("ActionID", "")
        if name == "login":
            if action.get("Secret") != self.secret:
                self.refused_logins += 1
                return [{"Response": "Error", "ActionID": action_id, "Message": "Authentication failed"}]
            self.logins += 1
            self._writers.append(writer)
            self.logged_in.set()
            return [
                {"Response": "Success", "ActionID": action_id, "Message": "Authentication accepted"},
                {"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"},
            ]
        handler = self.handlers.get(name)
        if handler is None:
            return [{"Response": "Error", "ActionID": action_id, "Message": "Invalid/unknown command"}]
        return [{**reply, "ActionID": action_id} for reply in handler(action)]


def _message(fields: Mapping[str, str | list[str]]) -> bytes:
    """An AMI message; a list value becomes one header line per item (as ChanVariable)."""
    lines = [f"{k}: {item}\r\n" for k, v in fields.items() for item in (v if isinstance(v, list) else [v])]
    return ("".join(lines) + "\r\n").encode()


async def _read_message(reader: asyncio.StreamReader) -> dict[str, str] | None:
    message: dict[str, str] = {}
    while True:
        line = await _line(reader)
        if not line:
            return None
        text = line.decode().rstrip("\r\n")
        if not text:
            if message:
                return message
            continue
        key, _, value = text.partition(": ")
        message[key] = value


def event_list(name: str, events: list[dict[str, str | list[str]]]) -> Answer:
    """A handler for a list action (QueueStatus, CoreShowChannels): start, the events, Complete."""

    def answer(action: dict[str, str]) -> list[dict[str, str | list[str]]]:
        return [
            {"Response": "Success", "EventList": "start", "Message": f"{name} will follow"},
            *events,
            {"Event": f"{name}Complete", "EventList": "Complete", "ListItems": str(len(events))},
        ]

    return answer
