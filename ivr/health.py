"""lotse serve's health and own figures, for its endpoint (runtime.endpoint: /health and /metrics)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ivr.fastagi import IvrServer


def health(server: IvrServer) -> dict[str, Any]:
    """Down when it does not listen for FastAGI (calls then go to the dialplan's fallback queue)."""
    details = server.health()
    problems = [] if details["listening"] else ["not listening for FastAGI: Asterisk's calls take the fallback queue"]
    return {**details, "config_age_seconds": round(time.time() - server.loaded_at, 1), "problems": problems}


class ServerCollector(Collector):
    """The FastAGI server's calls, refusals, reloads and live-facts failures, read at each scrape."""

    def __init__(self, server: IvrServer) -> None:
        self.server = server

    def collect(self) -> Iterator[Metric]:
        counters = self.server.counters
        yield GaugeMetricFamily("lotse_serve_up", "1 while lotse serve listens for FastAGI", 1 if self.server.health()["listening"] else 0)
        yield CounterMetricFamily("lotse_serve_calls", "IVR sessions begun", counters.calls_total)
        yield GaugeMetricFamily("lotse_serve_calls_active", "IVR sessions in progress", counters.calls_active)
        yield CounterMetricFamily("lotse_serve_calls_failed", "IVR sessions that fell back to the dialplan", counters.calls_failed)
        yield CounterMetricFamily("lotse_serve_peers_refused", "FastAGI connections from addresses not allowed", counters.rejected_peers)
        reloads = CounterMetricFamily("lotse_serve_reloads", "Config loads, by result", labels=["result"])
        reloads.add_metric(["applied"], counters.reloads)
        reloads.add_metric(["rejected"], counters.reloads_rejected)
        yield reloads
        yield GaugeMetricFamily("lotse_serve_config_loaded_timestamp_seconds", "When the config in use was loaded", self.server.loaded_at)
        yield CounterMetricFamily("lotse_serve_live_facts_failures", "Routings without Redis' live facts", self.server.live_failures)
