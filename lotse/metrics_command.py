"""``lotse metrics``: run the AMI listener until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

import redis
from prometheus_client import start_http_server

from metrics.exporter import Exporter
from metrics.listener import AmiSettings, MetricsListener
from metrics.live import LiveState
from metrics.store import Store
from metrics.tracker import Privacy
from routing.model import Center


def run_metrics(ami: AmiSettings, db: str, privacy: Privacy, center: Center, listen: tuple[str, int], redis_url: str | None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return asyncio.run(_run(ami, db, privacy, center, listen, redis_url))


async def _run(ami: AmiSettings, db: str, privacy: Privacy, center: Center, listen: tuple[str, int], redis_url: str | None) -> int:
    store = Store.open(db, center.tz)
    exporter = Exporter(center)
    start_http_server(listen[1], listen[0], registry=exporter.registry)
    logging.getLogger("lotse.metrics").info("Prometheus metrics on http://%s:%d/metrics", *listen)
    live = LiveState(redis.Redis.from_url(redis_url, socket_timeout=2)) if redis_url else None
    listener = MetricsListener(ami, store, privacy, exporter=exporter, live=live, queues=tuple(center.queues))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        await listener.start()
        await stop.wait()
    finally:
        await listener.close()
        store.close()
    return 0
