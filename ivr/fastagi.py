"""``lotse serve``: the FastAGI server that runs the IVR for every call.

One lifecycle object: ``start``, ``close`` (graceful: running calls finish),
``reload`` (validate, then apply to new calls; an invalid config is rejected
and the old one keeps serving) and ``health``. Each call runs the sans-IO
session from ivr.session over the socket. Failure policy: anything going
wrong inside a call fails open to the dialplan's fallback queue (lotse leaves
LOTSE_OUTCOME unset and the dialplan routes to CONTEXT_FALLBACK).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis

from ivr import contract as c
from ivr.agi import (
    MAX_ENVIRONMENT_BYTES,
    MAX_ENVIRONMENT_LINES,
    CallerHungUp,
    Environment,
    command_text,
    parse_environment,
    parse_reply,
    reply_value,
    resume_from_args,
)
from ivr.journal import Journal
from ivr.session import Session, channel_variables, resumed, session
from ivr.throttle import Throttle, reason
from metrics.live import LiveState
from routing.engine import Call, Decision, Live
from routing.loader import LoadResult, load
from routing.model import Center

log = logging.getLogger("lotse.fastagi")
HEADER_TIMEOUT = 5.0  # seconds for Asterisk to send the AGI environment
LIVE_TIMEOUT = 0.2  # seconds for the live facts from Redis before a call is routed without them
SESSION_TIMEOUT = 1800.0  # seconds for one call's IVR; ends a session whose Asterisk side is stuck
MAX_LINE = 8192  # bytes of one line from Asterisk (an environment line or a reply)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK: tuple[Network, ...] = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def parse_allow(values: list[str]) -> tuple[Network, ...]:
    """Addresses or networks (CIDR) for --allow; raises ValueError naming the first that is neither."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"'{value}' is not an IP address or network (e.g. 192.0.2.10 or 192.0.2.0/24); host names are not accepted"
            ) from None
    return tuple(networks)


def allowed(host: str, networks: tuple[Network, ...]) -> bool:
    """Whether a peer address lies in one of the networks (IPv4-mapped IPv6 peers count as IPv4)."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == network.version and address in network for network in networks)


_KEY = re.compile(r"menu \S+: (?:key (\S) (->|is not an option)|no key pressed)")


def call_details(trace: tuple[str, ...]) -> str:
    """For the per-call log line: the keys pressed ('9?' an invalid one, 'T' none) and why a call was closed."""
    keys = [m[1] + ("" if m[2] == "->" else "?") if m[1] else "T" for line in trace if (m := _KEY.match(line))]
    closed = next((line for line in trace if line.startswith("closed: ")), "")
    return (f" keys {' '.join(keys)}" if keys else "") + (f" {closed}" if closed else "")


@dataclass(frozen=True)
class ServerSettings:
    config: Path
    host: str = "127.0.0.1"
    port: int = c.FASTAGI_PORT
    allow: tuple[Network, ...] = LOOPBACK
    prompts: str | None = None  # the prompts folder as Asterisk sees it; default: the config's
    grace_seconds: float = 30.0
    redis_url: str | None = None  # live facts (agents, waiting callers, emergencies); None: unknown
    journal: Path | None = None  # one line per session, for lotse metrics (ivr.journal)


@dataclass
class Counters:
    calls_total: int = 0
    calls_active: int = 0
    calls_failed: int = 0
    rejected_peers: int = 0
    reloads: int = 0
    reloads_rejected: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


class IvrServer:
    def __init__(self, settings: ServerSettings, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.settings = settings
        self.clock = clock
        self.counters = Counters()
        self._center: Center | None = None
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()
        self.loaded_at = 0.0
        self._live = LiveState(redis.Redis.from_url(settings.redis_url, socket_timeout=LIVE_TIMEOUT)) if settings.redis_url else None
        self._live_warnings = Throttle(log)
        self._refused = Throttle(log)
        self._reloading = asyncio.Lock()
        self._background: set[asyncio.Task[LoadResult]] = set()
        self._journal = Journal(settings.journal) if settings.journal else None

    @property
    def live_failures(self) -> int:
        return self._live_warnings.total

    @property
    def center(self) -> Center:
        assert self._center is not None, "start() or reload() first"
        return self._center

    def reload(self) -> LoadResult:
        """Load the config; apply it to new calls only if it is valid (blocks: for start-up and tests)."""
        return self._apply(load(self.settings.config))

    async def reload_async(self) -> LoadResult:
        """As reload, with the YAML read in a thread so that running calls never wait for it."""
        async with self._reloading:
            return self._apply(await asyncio.to_thread(load, self.settings.config))

    def request_reload(self) -> None:
        """SIGHUP: reload in the background."""
        task = asyncio.get_running_loop().create_task(self.reload_async())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _apply(self, result: LoadResult) -> LoadResult:
        if result.center is None:
            self.counters.reloads_rejected += 1
            log.error("config %s rejected, %d error(s); the previous config keeps serving", self.settings.config, len(result.errors))
            for problem in result.errors:
                log.error("  %s", problem)
            return result
        self._center = result.center
        self.loaded_at = time.time()
        self.counters.reloads += 1
        log.info("config %s loaded: %d tenants, %d warning(s)", self.settings.config, len(result.center.tenants), len(result.warnings))
        return result

    async def start(self) -> None:
        if self._center is None and self.reload().center is None:
            raise RuntimeError(f"cannot start: {self.settings.config} is invalid (lotse validate {self.settings.config})")
        self._server = await asyncio.start_server(self._accept, self.settings.host, self.settings.port, limit=MAX_LINE)
        log.info("FastAGI listening on %s:%d", self.settings.host, self.port)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        """Stop accepting calls and let running ones finish within the grace period."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._calls:
            log.info("waiting up to %.0f s for %d running call(s)", self.settings.grace_seconds, len(self._calls))
            _, pending = await asyncio.wait(self._calls, timeout=self.settings.grace_seconds)
            for task in pending:
                task.cancel()

    def health(self) -> dict[str, object]:
        return {
            "listening": self._server is not None and self._server.is_serving(),
            "config": str(self.settings.config),
            "config_loaded_at": self.loaded_at,
            "calls_active": self.counters.calls_active,
            "calls_total": self.counters.calls_total,
            "calls_failed": self.counters.calls_failed,
        }

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # close() cut the call after the grace period (_run_call logged it). The task ends normally so that
            # asyncio's stream callback does not log the cancellation as an error with a traceback.
            return
        finally:
            self._calls.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        host = peer[0] if peer else ""
        if not allowed(host, self.settings.allow):
            self.counters.rejected_peers += 1
            self._refused.warning(time.monotonic(), "FastAGI connection from %s refused: not in the allowlist (--allow)", host)
            return
        center = self.center  # this call keeps the config of the moment it connected, whatever reloads happen
        try:
            async with asyncio.timeout(HEADER_TIMEOUT):  # cheaper than wait_for: no extra task
                env = await _read_environment(reader)
        except _Probe:
            log.debug("connection from %s closed without a request (a port check)", host)
            return
        except TimeoutError:
            log.error("FastAGI request from %s dropped: no complete AGI environment within %.0f s", host, HEADER_TIMEOUT)
            return
        except ValueError as exc:
            log.error("FastAGI request from %s dropped: %s", host, reason(exc))
            return
        except ConnectionError as exc:
            log.warning("FastAGI connection from %s lost before the AGI environment ended: %s", host, reason(exc))
            return
        live = await self._live_facts(center)
        try:
            steps = self._session(center, env, live)
        except ValueError as exc:
            log.error("[%s] bad AGI arguments for %s: %s; the dialplan falls back", env.uniqueid, env.script, exc)
            return
        if steps is None:
            log.error("[%s] unknown FastAGI route %r; the dialplan falls back", env.uniqueid, env.script)
            return
        started = time.time()
        decision = await self._run_call(env, steps, reader, writer)
        if self._journal is not None:
            variables = channel_variables(decision, "") if decision is not None else {}
            dialled = env.dialled if env.script == c.AGI_ROUTE else ""  # route-next's first argument is the outcome
            self._journal.write(env.uniqueid, started, time.time(), dialled, env.caller or "", variables)  # a local append: ~20 us

    async def _run_call(
        self, env: Environment, steps: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Decision | None:
        """The decision, or None when the caller hung up or the session failed."""
        self.counters.calls_total += 1
        self.counters.calls_active += 1
        try:
            async with asyncio.timeout(SESSION_TIMEOUT):  # one deadline per call, not one task per command
                decision = await _drive(steps, reader, writer)
            self.counters.outcomes[decision.outcome.value] = self.counters.outcomes.get(decision.outcome.value, 0) + 1
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
            )
            return decision
        except CallerHungUp:
            log.info("[%s] caller hung up in the IVR", env.uniqueid)
        except ConnectionError as exc:
            log.warning("[%s] AGI connection lost (%s); Asterisk carries on with the dialplan", env.uniqueid, reason(exc))
        except TimeoutError:
            self.counters.calls_failed += 1
            log.error("[%s] IVR ended after %.0f s without an answer from Asterisk; the dialplan falls back", env.uniqueid, SESSION_TIMEOUT)
        except asyncio.CancelledError:
            grace = self.settings.grace_seconds
            log.warning("[%s] call cut: lotse stopped after its %.0f s grace period; the dialplan falls back", env.uniqueid, grace)
            raise
        except Exception:  # fail open: the dialplan sends the call to its fallback queue
            self.counters.calls_failed += 1
            log.exception("[%s] IVR failed; the dialplan falls back", env.uniqueid)
        finally:
            self.counters.calls_active -= 1
        return None

    async def _live_facts(self, center: Center) -> Live:
        """Live facts from Redis; when Redis is slow or down, unknown facts (fail open: calls are routed as configured)."""
        if self._live is None:
            return Live()
        try:
            async with asyncio.timeout(LIVE_TIMEOUT):
                return await asyncio.to_thread(self._live.live, center.queues)
        except (TimeoutError, redis.RedisError, OSError) as exc:
            self._live_warnings.warning(time.monotonic(), "live facts unavailable, routing without them: %s", reason(exc))
            return Live()

    def _session(self, center: Center, env: Environment, live: Live) -> Session | None:
        prompts = self.settings.prompts or center.prompts_dir
        now = self.clock()
        if env.script == c.AGI_ROUTE:
            return session(center, Call(env.dialled, env.caller), now, live, prompts)
        if env.script == c.AGI_ROUTE_NEXT:
            return resumed(center, resume_from_args(env.args), now, live, prompts)
        return None


class _Probe(Exception):  # noqa: N818 - not an error: a connection that sent nothing
    pass


async def _read_environment(reader: asyncio.StreamReader) -> Environment:
    """The AGI environment up to its blank line; ValueError when it is larger than Asterisk ever sends."""
    lines: list[str] = []
    size = 0
    while True:
        try:
            raw = await reader.readline()
        except ValueError:  # the stream's limit: one line over MAX_LINE bytes
            raise ValueError(f"an AGI environment line is longer than {MAX_LINE} bytes") from None
        if not raw and not lines:
            raise _Probe
        if not raw:
            raise ValueError("connection closed before the AGI environment ended")
        size += len(raw)
        if size > MAX_ENVIRONMENT_BYTES or len(lines) >= MAX_ENVIRONMENT_LINES:
            raise ValueError(f"the AGI environment is larger than {MAX_ENVIRONMENT_LINES} lines or {MAX_ENVIRONMENT_BYTES} bytes")
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            return parse_environment(lines)
        lines.append(line)


async def _drive(steps: Session, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Decision:
    result: str | None = None
    try:
        command = next(steps)
        while True:
            writer.write((command_text(command) + "\n").encode())
            await writer.drain()
            result = reply_value(command, await _reply(reader))
            command = steps.send(result)
    except StopIteration as stop:
        decision: Decision = stop.value
        return decision


async def _reply(reader: asyncio.StreamReader) -> dict[str, object]:
    while True:
        raw = await reader.readline()
        if not raw:
            raise CallerHungUp("the AGI connection closed")
        reply = parse_reply(raw.decode("utf-8", "replace").rstrip("\r\n"))
        if reply.get("status_code") != 100:  # 100 Trying: the real reply follows
            return reply
