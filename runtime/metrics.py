"""The ``lotse metrics`` process: the AMI listener that writes one record per call, and its Prometheus endpoint.

With a Redis URL it also keeps the live state (agents, waiting callers) that lotse serve and lotse web read.
It runs until SIGTERM or SIGINT, then writes what it holds and stops.
"""

from __future__ import annotations

import logging

import redis
from prometheus_client import start_http_server

from metrics.exporter import Exporter
from metrics.listener import ListenerSettings, MetricsListener
from pbx.ami import AmiSettings
from routing.model import Center
from runtime.process import configure_logging, run, stop_on_signals
from stores.live import LiveState

log = logging.getLogger("lotse.metrics")


def run_metrics(
    ami: AmiSettings, settings: ListenerSettings, center: Center, listen: tuple[str, int], redis_url: str | None, loop: str = "uvloop"
) -> int:
    configure_logging(center.tz)  # log times in the center's wall clock
    return run(_listen(ami, settings, center, listen, redis_url), loop)


async def _listen(ami: AmiSettings, settings: ListenerSettings, center: Center, listen: tuple[str, int], redis_url: str | None) -> int:
    exporter = Exporter(center)
    try:
        start_http_server(listen[1], listen[0], registry=exporter.registry)
    except OSError as exc:
        log.error("cannot serve Prometheus metrics on %s:%d: %s (--listen)", *listen, exc)
        return 1
    log.info("Prometheus metrics on http://%s:%d/metrics", *listen)
    live = LiveState(redis.Redis.from_url(redis_url, socket_timeout=2)) if redis_url else None
    listener = MetricsListener(ami, settings, exporter, live)
    stop = stop_on_signals()
    try:
        await listener.start()
        await stop.wait()
    finally:
        await listener.close()
    return 0
