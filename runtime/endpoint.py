"""Each long-running process's own HTTP endpoint: ``/health`` for a check, ``/metrics`` for Prometheus.

``/health`` answers JSON with ``"status": "up"`` (HTTP 200) or ``"down"`` (HTTP 503) and the process's
details; a process is down when it cannot do its job (lotse metrics: no AMI link or no database; lotse
promises: the same, or no round finished lately), not because a helper (Redis) is away. ``/metrics`` holds
the process's own figures and, for every process, the standard process metrics (CPU, memory, open files,
start time) and its log tally: messages by level and the time of the last error (docs/operations.md).
The endpoint runs in the process's event loop; a process that hangs stops answering it, which is the point.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, PlatformCollector, ProcessCollector, generate_latest, make_asgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Health = Callable[[], dict[str, Any]]  # the details; "problems": what keeps the process from its job (none: up)


class LogTally(logging.Handler):
    """Counts the process's log messages by level and keeps its last error, for /metrics and /health."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts = {"warning": 0, "error": 0}
        self.last_error_at = 0.0
        self.last_error = ""

    def emit(self, record: logging.LogRecord) -> None:
        level = "error" if record.levelno >= logging.ERROR else "warning"
        self.counts[level] += 1
        if level == "error":
            self.last_error_at, self.last_error = record.created, record.getMessage()[:300]


class _TallyCollector(Collector):
    def __init__(self, tally: LogTally) -> None:
        self.tally = tally

    def collect(self) -> Iterator[Metric]:
        messages = CounterMetricFamily("lotse_log_messages", "Warnings and errors this process logged", labels=["level"])
        for level, count in self.tally.counts.items():
            messages.add_metric([level], count)
        yield messages
        last = self.tally.last_error_at
        yield GaugeMetricFamily("lotse_last_error_timestamp_seconds", "When this process last logged an error (0: never)", last)


def registry(tally: LogTally, *collectors: Collector) -> CollectorRegistry:
    """A process's registry: the standard process metrics, its log tally and its own collectors."""
    found = CollectorRegistry()
    ProcessCollector(registry=found)
    PlatformCollector(registry=found)
    found.register(_TallyCollector(tally))
    for collector in collectors:
        found.register(collector)
    return found


def app(metrics: CollectorRegistry, health: Health, tally: LogTally) -> Starlette:
    async def healthy(request: Request) -> JSONResponse:
        details = health()
        problems = details.get("problems", [])
        last = {"last_error": tally.last_error, "last_error_at": tally.last_error_at} if tally.last_error_at else {}
        return JSONResponse({"status": "down" if problems else "up", **details, **last}, status_code=503 if problems else 200)

    async def exported(request: Request) -> Response:
        return Response(generate_latest(metrics), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/health", healthy), Route("/metrics", exported)])


class InLoop(uvicorn.Server):
    """uvicorn inside the process's loop: the process handles SIGTERM and SIGINT itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Endpoint:
    """The endpoint of one process, bound at ``start`` (an OSError names a busy or wrong address)."""

    def __init__(self, application: Starlette, listen: tuple[str, int]) -> None:
        self.listen = listen
        self._server = InLoop(uvicorn.Config(application, log_level="warning", lifespan="off", access_log=False))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        host, port = self.listen
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            raise
        sock.listen(64)
        sock.setblocking(False)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.01)

    @property
    def port(self) -> int:
        servers = self._server.servers
        return int(servers[0].sockets[0].getsockname()[1]) if servers else self.listen[1]

    async def close(self) -> None:
        if self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


LOOPBACK = ("127.0.0.1", "::1")


def with_metrics(application: Any, metrics: CollectorRegistry) -> Any:
    """``application`` with ``/metrics`` for Prometheus on the same port, answered to loopback clients only (lotse
    web faces browsers through a proxy; its figures are for the monitoring on the host)."""
    exporter = make_asgi_app(metrics)

    async def routed(scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = scope.get("client") or ("", 0)
        if scope["type"] == "http" and scope["path"] == "/metrics" and client[0] in LOOPBACK:
            await exporter(scope, receive, send)
        else:
            await application(scope, receive, send)

    return routed
