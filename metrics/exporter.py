"""Prometheus metrics of ``lotse metrics``.

Labels are tenant, entry, topic and queue, never a caller's number. The
answer-time histogram's bucket edges include every service-level threshold
in the config, so `sum(rate(..._bucket{le="30"}))` is exactly "within 30 s".
Today's figures are kept per local day of the center and start from zero at
midnight; at start-up (and whenever the database comes back) they are loaded from
the stored records of today, so a restart does not reset them. Health gauges say
whether AMI and the database are up, how old the last event is and how many records
wait in the spool.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from metrics.kpi import Fate, held_seconds, queue_fate, within_target
from metrics.records import CallRecord
from metrics.report import target_within, thresholds
from metrics.tracker import Tracker
from routing.model import Center

STANDARD_BUCKETS = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)


class Exporter:
    def __init__(self, center: Center, registry: CollectorRegistry | None = None) -> None:
        self.center = center
        self.registry = registry or CollectorRegistry()
        labels = ["tenant", "entry", "topic", "queue"]
        r = self.registry
        self.calls = Counter("lotse_calls", "Calls that reached lotse, by outcome", [*labels, "outcome"], registry=r)
        self.offered = Counter("lotse_calls_offered", "Calls that joined a queue (short abandons excluded)", labels, registry=r)
        self.answered = Counter("lotse_calls_answered", "Offered calls an agent answered", labels, registry=r)
        self.abandoned = Counter("lotse_calls_abandoned", "Offered calls whose caller hung up while waiting", labels, registry=r)
        self.short_abandoned = Counter(
            "lotse_calls_short_abandoned", "Calls that hung up unanswered within 5 s of joining a queue (not offered)", labels, registry=r
        )
        self.ami_up = Gauge("lotse_ami_up", "1 while lotse metrics is logged in to Asterisk's AMI", registry=r)
        self.db_up = Gauge("lotse_db_up", "1 while the call-record database takes writes", registry=r)
        self.event_age = Gauge("lotse_ami_last_event_age_seconds", "Seconds since the last AMI event (-1: none yet)", registry=r)
        self.spooled = Gauge("lotse_records_spooled", "Call records on disk waiting for the database", registry=r)
        self.rejected = Gauge("lotse_records_rejected", "Call records the database refused, set aside since start", registry=r)
        buckets = sorted(set(STANDARD_BUCKETS) | set(thresholds(center)))
        self.answer_time = Histogram(
            "lotse_answer_seconds", "Wait from joining the queue to an agent's answer", labels, buckets=buckets, registry=r
        )
        self.waiting = Gauge("lotse_queue_callers_waiting", "Callers waiting in the queue now", ["queue"], registry=r)
        self.longest = Gauge("lotse_queue_longest_wait_seconds", "How long the longest-waiting caller has waited", ["queue"], registry=r)
        self.agents = Gauge(
            "lotse_queue_agents", "Agents in the queue by state (from the live state in Redis)", ["queue", "state"], registry=r
        )
        self.service_level = Gauge(
            "lotse_service_level_today_percent", "Today's answered within target / offered", ["tenant", "entry", "within"], registry=r
        )
        self.reachability = Gauge(
            "lotse_reachability_today_percent", "Today's answered / offered in opening hours", ["tenant", "entry"], registry=r
        )
        self.resolution = Gauge(
            "lotse_first_contact_resolution_today_percent",
            "Today's answered calls the agents marked solved / those with a disposition (docs/metrics.md)",
            ["tenant"],
            registry=r,
        )
        self.disposed = Gauge(
            "lotse_dispositions_today", "Today's answered calls with a disposition, by code", ["tenant", "code"], registry=r
        )
        self._day = ""
        self._today: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # offered, within, in-hours offered/answered
        self._counted: set[str] = set()  # unique ids in today's figures: a call counts once, stored or seen

    def today_span(self, now: float) -> tuple[float, float]:
        """Start and end (UNIX seconds) of the center's local day that contains ``now``."""
        day = datetime.fromtimestamp(now, self.center.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        following = (day + timedelta(days=1, hours=2)).replace(hour=0)  # the next midnight, whatever the DST change
        return day.timestamp(), following.timestamp()

    def load_today(self, records: Iterable[CallRecord]) -> None:
        """Today's gauges from stored records (after a start or a database outage); calls counted already are skipped."""
        for record in records:
            fate = queue_fate(record)
            if fate is not None and fate is not Fate.SHORT:
                self._count_today(record, record.wait or 0.0)

    def update_health(self, ami_up: bool, db_up: bool, last_event: float, spooled: int, rejected: int, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.ami_up.set(1 if ami_up else 0)
        self.db_up.set(1 if db_up else 0)
        self.event_age.set(now - last_event if last_event else -1)
        self.spooled.set(spooled)
        self.rejected.set(rejected)

    def observe(self, record: CallRecord) -> None:
        queue = record.queues[0] if record.queues else ""
        labels = (record.tenant or "-", record.entry or "-", record.topic or "-", queue or "-")
        self.calls.labels(*labels, record.outcome.value).inc()
        fate = queue_fate(record)
        if fate is Fate.SHORT:
            self.short_abandoned.labels(*labels).inc()
        if fate is None or fate is Fate.SHORT:
            return
        wait = record.wait or 0.0
        self.offered.labels(*labels).inc()
        if fate is Fate.ANSWERED:
            self.answered.labels(*labels).inc()
            assert record.queued is not None and record.answered is not None
            held = held_seconds(record.queued, record.answered)
            self.answer_time.labels(*labels).observe(held)  # le="30" counts exactly kpi.within_target
        elif fate is Fate.ABANDONED:
            self.abandoned.labels(*labels).inc()
        self._count_today(record, wait)

    def _count_today(self, record: CallRecord, wait: float) -> None:
        day = datetime.fromtimestamp(record.arrived, self.center.tz).strftime("%Y-%m-%d")
        if day < self._day:
            return  # a late record of an earlier day (completed after a gap): not today's
        if day != self._day:
            self._day = day
            self._today.clear()
            self._counted.clear()
            self.service_level.clear()
            self.reachability.clear()
        if record.uniqueid in self._counted:
            return
        self._counted.add(record.uniqueid)
        tenant, entry = record.tenant or "-", record.entry or "-"
        within = target_within(self.center, ["tenant", "entry"], (tenant, entry))
        counts = self._today[(tenant, entry)]
        counts[0] += 1
        counts[1] += within_target(record, within)
        if record.in_hours:
            counts[2] += 1
            counts[3] += record.answered is not None
        self.service_level.labels(tenant, entry, str(within)).set(100.0 * counts[1] / counts[0])
        if counts[2]:
            self.reachability.labels(tenant, entry).set(100.0 * counts[3] / counts[2])

    def update_resolution(self, counts: dict[str, dict[str, int]]) -> None:
        """Today's dispositions per tenant (from the database: phone codes and the agents' web page alike)."""
        self.resolution.clear()
        self.disposed.clear()
        for tenant, by_code in counts.items():
            total = sum(by_code.values())
            for code in ("solved", "handed_on", "callback"):
                self.disposed.labels(tenant, code).set(by_code.get(code, 0))
            if total:
                self.resolution.labels(tenant).set(100.0 * by_code.get("solved", 0) / total)

    def update_agents(self, states: dict[str, dict[str, int]]) -> None:
        """Agents per queue and state: available, ringing, talking, paused, unavailable."""
        for queue, counts in states.items():
            for state in ("available", "ringing", "talking", "paused", "unavailable"):
                self.agents.labels(queue, state).set(counts.get(state, 0))

    def update_live(self, tracker: Tracker, now: float | None = None) -> None:
        """Waiting callers and longest wait per queue, from the calls in progress."""
        now = time.time() if now is None else now
        waiting: dict[str, list[float]] = defaultdict(list)
        for call in tracker.calls.values():
            if call.queued is not None and call.answered is None and call.queues:
                waiting[call.queues[-1]].append(now - call.queued)
        for queue in self.center.queues:
            waits = waiting.get(queue, [])
            self.waiting.labels(queue).set(len(waits))
            self.longest.labels(queue).set(max(waits, default=0.0))
