"""``lotse serve``: the FastAGI server that runs the IVR for every call.

One lifecycle object: ``start``, ``close`` (graceful: running calls finish),
``reload`` (validate, then apply to new calls; an invalid config is rejected
and the old one keeps serving) and ``health``. Each call runs the sans-IO
session from ivr.session over its connection (ivr.connection). Failure policy: anything going
wrong inside a call fails open to the dialplan's fallback queue (lotse leaves
LOTSE_OUTCOME unset and the dialplan routes to CONTEXT_FALLBACK).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis

from ivr.agi import (
    Environment,
    resume_from_args,
)
from ivr.connection import Connection
from ivr.session import Session, queue_callback, resumed, session
from pbx import contract as c
from pbx.journal import Journal
from pbx.throttle import Throttle, reason
from routing.engine import Call, Live
from routing.loader import LoadResult, load
from routing.model import Center
from stores.live import LiveState

log = logging.getLogger("lotse.fastagi")
LIVE_TIMEOUT = 0.2  # seconds for the live facts from Redis before a call is routed without them
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


@dataclass(frozen=True)
class ServerSettings:
    config: Path
    host: str = "127.0.0.1"
    port: int = c.FASTAGI_PORT
    allow: tuple[Network, ...] = LOOPBACK
    prompts: str | None = None  # the prompts folder as Asterisk sees it; default: the config's
    grace_seconds: float = 30.0
    redis_url: str | None = None  # live facts (agents, waiting callers, emergencies); None: unknown
    journal: Path | None = None  # one line per session, for lotse metrics (pbx.journal)


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
        self._calls: set[Connection] = set()
        self._idle = asyncio.Event()
        self.loaded_at = 0.0
        self._live = LiveState(redis.Redis.from_url(settings.redis_url, socket_timeout=LIVE_TIMEOUT)) if settings.redis_url else None
        self._live_warnings = Throttle(log)
        self.refused = Throttle(log)
        self._reloading = asyncio.Lock()
        self._background: set[asyncio.Task[LoadResult]] = set()
        self.journal = Journal(settings.journal) if settings.journal else None

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
        gc.freeze()  # the config lives until the next reload: the collector need not scan it after every call
        self.loaded_at = time.time()
        self.counters.reloads += 1
        log.info("config %s loaded: %d tenants, %d warning(s)", self.settings.config, len(result.center.tenants), len(result.warnings))
        return result

    async def start(self, loaded: LoadResult | None = None) -> None:
        """Listen for FastAGI; ``loaded``: the config as the caller already read it (else it is read here)."""
        if self._center is None and self._apply(loaded or load(self.settings.config)).center is None:
            raise RuntimeError(f"cannot start: {self.settings.config} is invalid (lotse validate {self.settings.config})")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: Connection(self), self.settings.host, self.settings.port)
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
        if self._calls:
            log.info("waiting up to %.0f s for %d running call(s)", self.settings.grace_seconds, len(self._calls))
            self._idle.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), self.settings.grace_seconds)
            for call in list(self._calls):
                call.cut(self.settings.grace_seconds)
        if self._server is not None:
            await self._server.wait_closed()

    def health(self) -> dict[str, object]:
        return {
            "listening": self._server is not None and self._server.is_serving(),
            "config": str(self.settings.config),
            "config_loaded_at": self.loaded_at,
            "calls_active": self.counters.calls_active,
            "calls_total": self.counters.calls_total,
            "calls_failed": self.counters.calls_failed,
        }

    def admits(self, host: str) -> bool:
        return allowed(host, self.settings.allow)

    @property
    def has_live_facts(self) -> bool:
        return self._live is not None

    def opened(self, call: Connection) -> None:
        self._calls.add(call)

    def closed(self, call: Connection) -> None:
        self._calls.discard(call)
        if not self._calls:
            self._idle.set()

    async def live_facts(self, center: Center) -> Live:
        """Live facts from Redis; when Redis is slow or down, unknown facts (fail open: calls are routed as configured)."""
        if self._live is None:
            return Live()
        try:
            async with asyncio.timeout(LIVE_TIMEOUT):
                return await asyncio.to_thread(self._live.live, center.queues)
        except (TimeoutError, redis.RedisError, OSError) as exc:
            self._live_warnings.warning(time.monotonic(), "live facts unavailable, routing without them: %s", reason(exc))
            return Live()

    def session_for(self, center: Center, env: Environment, live: Live) -> Session | None:
        prompts = self.settings.prompts or center.prompts_dir
        now = self.clock()
        if env.script == c.AGI_ROUTE:
            return session(center, Call(env.dialled, env.caller), now, live, prompts)
        if env.script == c.AGI_ROUTE_NEXT:
            return resumed(center, resume_from_args(env.args), now, live, prompts)
        if env.script == c.AGI_ROUTE_CALLBACK:
            return queue_callback(center, resume_from_args(env.args), now, prompts)
        return None
