"""One FastAGI connection of ``lotse serve``: the AGI protocol, driven by the event loop's callbacks.

An asyncio Protocol instead of a task with stream objects per call: the IVR's work
is a few lines each way, and the callbacks cost a fraction of a task's wake-ups.
The connection reads the AGI environment, runs the sans-IO session
(ivr.session) reply by reply, logs one line per call, journals the decision
and closes. The server (ivr.fastagi.IvrServer) owns the config, the live facts,
the counters and the journal.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import TYPE_CHECKING, cast

from ivr.agi import (
    MAX_ENVIRONMENT_BYTES,
    MAX_ENVIRONMENT_LINES,
    AgiError,
    CallerHungUp,
    Environment,
    command_text,
    parse_environment,
    parse_reply,
    reply_value,
)
from ivr.session import Session, decision_values
from outcomes.commands import Command
from pbx import contract as c
from pbx.throttle import reason
from routing.engine import Decision, Live

if TYPE_CHECKING:
    from ivr.fastagi import IvrServer

log = logging.getLogger("lotse.fastagi")  # one logger for the server and its calls
HEADER_TIMEOUT = 5.0  # seconds for Asterisk to send the AGI environment
SESSION_TIMEOUT = 1800.0  # seconds for one call's IVR; ends a session whose Asterisk side is stuck
MAX_LINE = 8192  # bytes of one line from Asterisk (an environment line or a reply)


_KEY = re.compile(r"menu \S+: (?:key (\S) (->|is not an option)|no key pressed)")


def call_details(trace: tuple[str, ...]) -> str:
    """For the per-call log line: the keys pressed ('9?' an invalid one, 'T' none) and why a call was closed."""
    keys = [m[1] + ("" if m[2] == "->" else "?") if m[1] else "T" for line in trace if (m := _KEY.match(line))]
    closed = next((line for line in trace if line.startswith("closed: ")), "")
    return (f" keys {' '.join(keys)}" if keys else "") + (f" {closed}" if closed else "")


class Connection(asyncio.Protocol):
    """One FastAGI connection, driven by the event loop's callbacks: no task and no stream objects per call.

    First the AGI environment (lines up to a blank one), then the session: each reply from Asterisk goes
    into the session generator, which yields the next command or returns the decision. Whatever goes
    wrong ends the connection and the dialplan falls back; the call is logged in one line either way.
    """

    def __init__(self, server: IvrServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.host = ""
        self.buffer = b""
        self.lines: list[str] = []
        self.size = 0
        self.env: Environment | None = None
        self.steps: Session | None = None
        self.command: Command | None = None
        self.started = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.live_task: asyncio.Task[None] | None = None
        self.active = False  # the session began (counted in calls_active)
        self.done = False

    # -- the event loop's callbacks ----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream transport (uvloop's is no subclass of asyncio's)
        peer = transport.get_extra_info("peername")
        self.host = peer[0] if peer else ""
        server = self.server
        if not server.admits(self.host):
            server.counters.rejected_peers += 1
            server.refused.warning(time.monotonic(), "FastAGI connection from %s refused: not in the allowlist (--allow)", self.host)
            self.done = True
            transport.close()
            return
        self.center = server.center  # this call keeps the config of the moment it connected, whatever reloads happen
        server.opened(self)
        self.timer = asyncio.get_running_loop().call_later(HEADER_TIMEOUT, self._header_timeout)

    def data_received(self, data: bytes) -> None:
        *complete, rest = (self.buffer + data).split(b"\n")  # one split per chunk: the environment comes in one or two
        self.buffer = b""
        for n, raw in enumerate(complete):
            if self.done:
                return
            if self.env is not None and self.steps is None:  # waiting for the live facts: keep the rest for later
                self.buffer = b"\n".join(complete[n:]) + b"\n" + rest
                return
            if len(raw) > MAX_LINE:
                self._line_too_long()
                return
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if self.env is None:
                self._header(line, len(raw) + 1)
            else:
                self._reply(line)
        self.buffer = rest
        if len(rest) > MAX_LINE and not self.done:
            self._line_too_long()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done:
            return
        if self.live_task is not None:
            self.live_task.cancel()
        if self.env is None:
            if exc is not None:
                log.warning("FastAGI connection from %s lost before the AGI environment ended: %s", self.host, reason(exc))
            elif self.lines or self.buffer:
                log.error("FastAGI request from %s dropped: connection closed before the AGI environment ended", self.host)
            else:
                log.debug("connection from %s closed without a request (a port check)", self.host)
        elif exc is None:
            log.info("[%s] caller hung up in the IVR", self.env.uniqueid)
        else:
            log.warning("[%s] AGI connection lost (%s); Asterisk carries on with the dialplan", self.env.uniqueid, reason(exc))
        self._end()

    # -- the AGI environment -----------------------------------------------------------

    def _header(self, line: str, size: int) -> None:
        self.size += size
        if self.size > MAX_ENVIRONMENT_BYTES or len(self.lines) >= MAX_ENVIRONMENT_LINES:
            self._drop(f"the AGI environment is larger than {MAX_ENVIRONMENT_LINES} lines or {MAX_ENVIRONMENT_BYTES} bytes")
        elif line:
            self.lines.append(line)
        else:
            try:
                self.env = parse_environment(self.lines)
            except ValueError as exc:
                self._drop(reason(exc))
                return
            self._cancel_timer()
            if not self.server.has_live_facts:
                self._begin(Live())
            else:
                self.live_task = asyncio.get_running_loop().create_task(self._begin_with_live_facts())

    async def _begin_with_live_facts(self) -> None:
        live = await self.server.live_facts(self.center)
        self.live_task = None
        if not self.done:
            self._begin(live)
            self.data_received(b"")  # anything Asterisk sent meanwhile

    def _line_too_long(self) -> None:
        if self.env is None:
            self._drop(f"an AGI environment line is longer than {MAX_LINE} bytes")
        else:
            self._fail(f"a reply from Asterisk is longer than {MAX_LINE} bytes")

    def _header_timeout(self) -> None:
        self._drop(f"no complete AGI environment within {HEADER_TIMEOUT:.0f} s")

    def _drop(self, why: str) -> None:
        log.error("FastAGI request from %s dropped: %s", self.host, why)
        self._end()

    # -- the session -------------------------------------------------------------------

    def _begin(self, live: Live) -> None:
        env = self.env
        assert env is not None
        try:
            steps = self.server.session_for(self.center, env, live)
        except ValueError as exc:
            log.error("[%s] bad AGI arguments for %s: %s; the dialplan falls back", env.uniqueid, env.script, exc)
            self._end()
            return
        if steps is None:
            log.error("[%s] unknown FastAGI route %r; the dialplan falls back", env.uniqueid, env.script)
            self._end()
            return
        counters = self.server.counters
        counters.calls_total += 1
        counters.calls_active += 1
        self.active, self.started, self.steps = True, time.time(), steps
        self.timer = asyncio.get_running_loop().call_later(SESSION_TIMEOUT, self._session_timeout)
        self._next(None)

    def _reply(self, line: str) -> None:
        reply = parse_reply(line)
        if reply.get("status_code") == 100:  # 100 Trying: the real reply follows
            return
        assert self.command is not None
        try:
            result = reply_value(self.command, reply)
        except CallerHungUp:
            assert self.env is not None
            log.info("[%s] caller hung up in the IVR", self.env.uniqueid)
            self._end()
            return
        except AgiError as exc:
            self._fail(str(exc))
            return
        self._next(result)

    def _next(self, result: str | None) -> None:
        assert self.steps is not None and self.transport is not None
        try:
            command = self.steps.send(result) if self.command is not None else next(self.steps)
        except StopIteration as stop:
            self._decided(stop.value)
            return
        except Exception:  # fail open: the dialplan sends the call to its fallback queue
            assert self.env is not None
            self.server.counters.calls_failed += 1
            log.exception("[%s] IVR failed; the dialplan falls back", self.env.uniqueid)
            self._end()
            return
        self.command = command
        self.transport.write((command_text(command) + "\n").encode())

    def _decided(self, decision: Decision) -> None:
        env = self.env
        assert env is not None
        outcomes = self.server.counters.outcomes
        outcomes[decision.outcome.value] = outcomes.get(decision.outcome.value, 0) + 1
        log.info(
            "[%s] to %s: %s/%s -> %s %s (%s)%s",
            env.uniqueid,
            env.dialled,
            decision.tenant or "-",
            decision.ctx.topic or "-",
            decision.outcome.value,
            decision.queue or decision.department or "",
            decision.reason,
            call_details(decision.ctx.trace),
            extra={"call": env.uniqueid, "tenant": decision.tenant, "outcome": decision.outcome.value, "reason": decision.reason},
        )
        self._end(decision)

    def _session_timeout(self) -> None:
        self._fail(f"IVR ended after {SESSION_TIMEOUT:.0f} s without an answer from Asterisk")

    def _fail(self, why: str) -> None:
        assert self.env is not None
        self.server.counters.calls_failed += 1
        log.error("[%s] %s; the dialplan falls back", self.env.uniqueid, why, extra={"call": self.env.uniqueid})
        self._end()

    def cut(self, grace: float) -> None:
        """lotse stops and the grace period is over."""
        if self.active and self.env is not None:
            log.warning("[%s] call cut: lotse stopped after its %.0f s grace period; the dialplan falls back", self.env.uniqueid, grace)
        self._end()
        if self.transport is not None:
            self.transport.abort()

    def _end(self, decision: Decision | None = None) -> None:
        """Account for the call once, journal it, close the connection."""
        if self.done:
            return
        self.done = True
        self._cancel_timer()
        server = self.server
        if self.active:
            server.counters.calls_active -= 1
            journal, env = server.journal, self.env
            if journal is not None and env is not None:
                variables = decision_values(decision, "") if decision is not None else {}
                dialled = env.dialled if env.script == c.AGI_ROUTE else ""  # route-next's first argument is the outcome
                journal.write(env.uniqueid, self.started, time.time(), dialled, env.caller or "", variables)  # a local append
        server.closed(self)
        if self.transport is not None:
            self.transport.close()

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
