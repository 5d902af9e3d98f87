"""The AMI link of ``lotse metrics``: connect, log in, and reconnect with increasing backoff.

panoramisk's Manager reconnects by itself at a fixed interval and never says that a
login was refused. ``AmiLink`` keeps its parser and action handling but runs its own
loop: each attempt connects and logs in; a refused login, an unreachable Asterisk or a
lost link is logged once per change of state (``up``, ``down``, ``refused``), and the
next attempt waits 1, 2, 4, ... up to 60 seconds (back to 1 after a good login).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from pbx import actions
from pbx import contract as c
from pbx.throttle import reason

log = logging.getLogger("lotse.metrics")
Event = dict[str, str]
OnEvent = Callable[[Event], None]
OnLogin = Callable[[Manager], Awaitable[None]]
EOL = "\r\n"


def parse_event(block: str) -> Event:
    """One AMI message block as text fields; each ``ChanVariable: NAME=value`` becomes ``ChanVariable(NAME)``."""
    event: Event = {}
    for line in block.split(EOL):
        key, _, value = line.partition(": ")
        if key == "ChanVariable":
            name, _, text = value.partition("=")
            event[f"ChanVariable({name})"] = text
        else:
            event[key] = value
    return event


def flat(message: Any) -> Event:
    """A panoramisk Message (an action's answer) as text fields, ChanVariable as in parse_event."""
    out: Event = {}
    for key, value in dict(message).items():
        if str(key) == "ChanVariable":
            for item in value if isinstance(value, list) else [value]:
                name, _, text = str(item).partition("=")
                out[f"ChanVariable({name})"] = text
        else:
            out[str(key)] = value if isinstance(value, str) else ",".join(map(str, value))
    return out


async def list_events(manager: Manager, action: actions.Action, timeout: float = 10.0) -> list[Event]:
    """A list action's events as text fields, its closing ``...Complete`` left out; none when Asterisk does not
    answer in time or the link drops (logged)."""
    try:
        messages = await actions.send_list(manager, action, timeout)
    except (TimeoutError, OSError) as exc:
        log.warning("AMI %s not answered: %s", action["Action"], reason(exc))
        return []
    return [flat(m) for m in messages if m.get("Event") and not str(m.get("Event")).endswith("Complete")]


class _Protocol(AMIProtocol):  # type: ignore[misc]  # panoramisk has no type hints
    """Events that answer no action go to the link as plain dicts, parsed once (panoramisk builds a
    case-insensitive Message and matches patterns for each: 5 of every 6 microseconds per event).
    Everything else (answers to actions, Shutdown) is panoramisk's as before."""

    def data_received(self, data: bytes) -> None:
        if self.version is None:  # the banner: panoramisk reads the version
            super().data_received(data)
            return
        text = data.decode(getattr(self, "encoding", "utf8"), "ignore")
        if self.queue:
            text = self.queue.popleft() + text
        blocks = text.split(EOL + EOL)
        self.queue.append(blocks.pop())
        for raw in blocks:
            block = raw.strip()
            if block.startswith("Event: ") and f"{EOL}ActionID: " not in block and not block.startswith("Event: Shutdown"):
                self.factory.on_plain_event(parse_event(block))
                continue
            message = Message.from_line(block)
            if message is not None:
                self.handle_message(message)


@dataclass(frozen=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = c.AMI_PORT
    user: str = c.AMI_USER_METRICS
    secret: str = ""
    first_retry: float = 1.0  # seconds before the first reconnect; doubled after every failed attempt
    max_retry: float = 60.0
    login_timeout: float = 10.0


class _Manager(Manager):  # type: ignore[misc]  # panoramisk has no type hints
    """panoramisk's Manager without its own reconnecting: the link's loop decides when to try again."""

    def __init__(self, lost: Callable[[], None], on_event: OnEvent, **config: Any) -> None:
        super().__init__(protocol_factory=_Protocol, **config)
        self._lost = lost
        self.on_plain_event = on_event

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            return  # AmiLink logs it and retries
        super().connection_made(f)

    def connection_lost(self, exc: Exception | None) -> None:
        pinger = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
        setattr(self, "pinger", None)  # noqa: B010 - an attribute of panoramisk's untyped base class
        self._lost()


class AmiLink:
    def __init__(
        self, settings: AmiSettings, on_event: OnEvent, on_login: OnLogin, on_connecting: Callable[[], None] = lambda: None
    ) -> None:
        self.settings = settings
        self.on_connecting = on_connecting  # called before each attempt, before any event of it can arrive
        self.on_event = on_event
        self.on_login = on_login
        self.state = "starting"
        self.manager: Manager | None = None  # while logged in
        self.attempts = 0
        self.logins = 0
        self.ready = asyncio.Event()  # set while logged in, once what follows a login is done
        self._task: asyncio.Task[None] | None = None

    @property
    def up(self) -> bool:
        return self.state == "up"

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.manager is not None:
            self.manager.close()

    async def _run(self) -> None:
        delay = self.settings.first_retry
        while True:
            if await self._session():
                delay = self.settings.first_retry
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.settings.max_retry)

    async def _session(self) -> bool:
        """One connection: True when it logged in (and has since been lost)."""
        s = self.settings
        where = f"{s.host}:{s.port}"
        lost = asyncio.Event()
        manager = _Manager(lost.set, self.on_event, host=s.host, port=s.port, username=s.user, secret=s.secret, ping_delay=10)
        manager.register_event("*", lambda _, message: self.on_event(flat(message)))  # events on panoramisk's path
        self.attempts += 1
        self.on_connecting()
        try:
            await manager.connect()
            login = manager.authenticated_future
            reply = await asyncio.wait_for(asyncio.shield(login), s.login_timeout) if login is not None else None
        except (OSError, TimeoutError) as exc:
            self._state("down", "AMI at %s unreachable (%s); retrying with increasing backoff", where, reason(exc))
            manager.close()
            return False
        if reply is None or not reply.success:
            why = reply.get("Message", "no answer") if reply is not None else "no answer"
            self._state("refused", "AMI login refused for user %s at %s: %s; check manager.conf and LOTSE_AMI_SECRET", s.user, where, why)
            manager.close()
            return False
        self.manager = manager
        self.logins += 1
        self._state("up", "AMI logged in at %s as %s", where, s.user)
        try:
            try:
                await self.on_login(manager)
            except Exception:  # a bug in what follows a login must not end the link: log it, keep following events
                log.exception("after the AMI login at %s", where)
            self.ready.set()
            await lost.wait()
        finally:
            self.ready.clear()
            self.manager = None
            manager.close()
        self._state("down", "AMI link to %s lost; reconnecting", where)
        return True

    def _state(self, state: str, message: str, *args: object) -> None:
        if state == self.state:
            log.debug(message, *args)
            return
        self.state = state
        (log.info if state == "up" else log.error)(message, *args)
