"""The ``lotse promises`` process: the worker that keeps callbacks and tickets, and its Prometheus endpoint.

It runs until SIGTERM or SIGINT, then closes the worker (which finishes the request in hand).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, start_http_server

from promises.exporter import PromiseCollector
from promises.worker import Keeper, KeeperSettings
from runtime.process import configure_logging, run, stop_on_signals


def run_promises(settings: KeeperSettings, listen: tuple[str, int], tz: ZoneInfo, loop: str = "uvloop") -> int:
    configure_logging(tz)
    return run(_keep(settings, listen), loop)


async def _keep(settings: KeeperSettings, listen: tuple[str, int]) -> int:
    keeper = Keeper(settings)
    stop = stop_on_signals()
    await keeper.start()
    registry = CollectorRegistry()
    registry.register(PromiseCollector(keeper))
    start_http_server(listen[1], listen[0], registry=registry)
    try:
        await stop.wait()
    finally:
        await keeper.close()
    return 0
