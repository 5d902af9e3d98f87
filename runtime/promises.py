"""The ``lotse promises`` process: the worker that keeps callbacks and tickets, its health and Prometheus endpoint.

It runs until SIGTERM or SIGINT, then closes the worker (which finishes the request in hand).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from zoneinfo import ZoneInfo

from promises.exporter import PromiseCollector
from promises.inbox import spool_free
from promises.worker import Keeper, KeeperSettings
from runtime.endpoint import Endpoint, LogTally, app, registry
from runtime.process import Options, configure_logging, run, stop_on_signals

log = logging.getLogger("lotse.promises")
SPOOL_FULL_BELOW = 16 * 1024 * 1024  # bytes free on the spool's disk below which Asterisk may cut requests off
STUCK_AFTER = 120.0  # seconds without a finished round (one a second, or at each request) before the worker counts as stuck


def run_promises(settings: KeeperSettings, listen: tuple[str, int], tz: ZoneInfo, options: Options | None = None) -> int:
    options = options or Options()
    logs = configure_logging(tz, options.log_format)
    return run(_keep(settings, listen, options, logs.tally), options.loop)


async def _keep(settings: KeeperSettings, listen: tuple[str, int], options: Options, tally: LogTally) -> int:
    keeper = Keeper(settings)
    endpoint = Endpoint(app(registry(tally, PromiseCollector(keeper)), lambda: health(keeper), tally), listen)
    try:
        await endpoint.start()
    except OSError as exc:
        log.error("cannot serve health and metrics on %s:%d: %s (--listen)", *listen, exc)
        return 1
    stop = stop_on_signals()
    try:
        await keeper.start()  # a StoreError (the database's schema) goes up to lotse.cli, the endpoint closed first
        options.notifier.ready("keeping callbacks and tickets")
        await stop.wait()
        options.notifier.stopping()
    finally:
        await keeper.close()
        await endpoint.close()
    return 0


def health(keeper: Keeper, now: float | None = None) -> dict[str, Any]:
    """Down without the AMI link (no callback can be dialled), without the database, with the spool's disk full, or when
    no round ended lately."""
    details = keeper.health()
    problems = []
    if details["ami"] != "up":
        problems.append(f"AMI link {details['ami']}: callbacks wait until it is back")
    now = time.time() if now is None else now
    if keeper.store is None:
        why = f" ({keeper.database.reason})" if keeper.database.reason else ""
        problems.append(f"database not open{why}: requests wait in the spool")
    elif keeper.database.down_since is not None:
        problems.append(
            f"database unreachable for {now - keeper.database.down_since:.0f} s ({keeper.database.reason}): requests wait in the spool"
        )
    free = spool_free(keeper.settings.spool)
    if free is not None and free < SPOOL_FULL_BELOW:
        problems.append(f"spool disk full: {free // 1024} KiB free at {keeper.settings.spool}: the dialplan cannot leave requests")
    age = now - keeper.last_round
    if keeper.last_round and age > STUCK_AFTER:
        problems.append(f"stuck: no round finished for {age:.0f} s")
    return {**details, "problems": problems}
