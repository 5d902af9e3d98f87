"""``lotse metrics``: run the AMI listener until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from metrics.listener import AmiSettings, MetricsListener
from metrics.store import Store
from metrics.tracker import Privacy


def run_metrics(ami: AmiSettings, db: str, privacy: Privacy) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return asyncio.run(_run(ami, db, privacy))


async def _run(ami: AmiSettings, db: str, privacy: Privacy) -> int:
    store = Store.open(db)
    listener = MetricsListener(ami, store, privacy)
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
