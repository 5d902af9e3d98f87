"""The ``lotse metrics`` process: the AMI listener that writes one record per call, and its Prometheus endpoint.

With a Redis URL it also keeps the live state (agents, waiting callers) that lotse serve and lotse web read.
It runs until SIGTERM or SIGINT, then writes what it holds and stops; a database whose schema is not this lotse's
(stores.db.StoreError) stops it too, the records kept in the spool, and the error goes up to the command.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis

from metrics.exporter import Exporter
from metrics.listener import ListenerSettings, MetricsListener
from pbx.ami import AmiSettings
from routing.model import Center
from runtime.endpoint import Endpoint, LogTally, app, registry
from runtime.process import Options, configure_logging, run, stop_on_signals
from stores.live import LiveState

log = logging.getLogger("lotse.metrics")


def run_metrics(
    ami: AmiSettings,
    settings: ListenerSettings,
    center: Center,
    listen: tuple[str, int],
    redis_url: str | None,
    options: Options | None = None,
    node: str = "",
) -> int:
    """``node``: this node's name in the live state (stores.live), the same for both lotse metrics of one Asterisk."""
    options = options or Options()
    logs = configure_logging(center.tz, options.log_format)  # log times in the center's wall clock
    live = LiveState(redis.Redis.from_url(redis_url, socket_timeout=2), node=node) if redis_url else None
    return run(_listen(ami, settings, center, listen, live, options, logs.tally), options.loop)


async def _listen(
    ami: AmiSettings,
    settings: ListenerSettings,
    center: Center,
    listen: tuple[str, int],
    live: LiveState | None,
    options: Options,
    tally: LogTally,
) -> int:
    exporter = Exporter(center, registry(tally))
    listener = MetricsListener(ami, settings, exporter, live)
    endpoint = Endpoint(app(exporter.registry, lambda: health(listener), tally), listen)
    try:
        await endpoint.start()
    except OSError as exc:
        log.error("cannot serve Prometheus metrics on %s:%d: %s (--listen)", *listen, exc)
        return 1
    log.info("Prometheus metrics on http://%s:%d/metrics, health on /health", *listen)
    stop = stop_on_signals()
    try:
        await listener.start()
        options.notifier.ready("following AMI")
        await _first(stop, listener.refused)
        options.notifier.stopping()
    finally:
        await listener.close()
        await endpoint.close()
    if listener.refusal is not None:  # the database's schema is not this lotse's: lotse.cli prints why and exits 1
        raise listener.refusal
    return 0


async def _first(*events: asyncio.Event) -> None:
    """Wait until one of the events is set."""
    waiting = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiting:
            task.cancel()


def health(listener: MetricsListener) -> dict[str, Any]:
    """Down without the AMI link (calls go unrecorded until queue_log completes them) or the database (records wait
    in the spool)."""
    details = listener.health()
    problems = []
    if details["ami"] != "up":
        problems.append(f"AMI link {details['ami']}: events are missed until it is back (queue_log completes the records)")
    if details["database"] == "refused":
        problems.append(f"database refused: {listener.refusal} ({details['records_spooled']} record(s) wait in the spool)")
    elif details["database"] != "up":
        problems.append(f"database unreachable: {details['records_spooled']} record(s) wait in the spool")
    return {**details, "problems": problems}
