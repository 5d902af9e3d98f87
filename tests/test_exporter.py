from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import generate_latest

from metrics.exporter import Exporter
from metrics.tracker import Tracker
from routing.model import Center

DATA = Path(__file__).parent / "data" / "ami"


def feed(exporter: Exporter, name: str, tracker: Tracker | None = None, stop_before: str | None = None) -> Tracker:
    tracker = tracker or Tracker()
    for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if stop_before and event.get("Event") == stop_before:
            break
        record = tracker.feed(event, 0.0)
        if record is not None:
            exporter.observe(record)
    return tracker


def test_counters_histogram_and_todays_figures(example: Center) -> None:
    exporter = Exporter(example)
    for name in ("answered", "answered_115", "abandoned_queue", "closed", "abandoned_ivr"):
        feed(exporter, name)
    text = generate_latest(exporter.registry).decode()
    labels = 'entry="own",queue="buergerservice",tenant="minden",topic="ausweis"'
    assert f"lotse_calls_offered_total{{{labels}}} 1.0" in text  # the impatient caller is a short abandon
    assert f"lotse_calls_answered_total{{{labels}}} 1.0" in text
    assert 'lotse_answer_seconds_bucket{entry="own",le="30.0",queue="buergerservice",tenant="minden",topic="ausweis"} 1.0' in text
    assert 'lotse_calls_total{entry="own",outcome="closed",queue="-",tenant="minden",topic="-"} 1.0' in text
    assert 'lotse_service_level_today_percent{entry="115",tenant="bueckeburg",within="30"} 100.0' in text
    values = re.findall(r'="([^"]*)"', text)
    assert values and not [v for v in values if "057" in v or "+49" in v]  # no caller numbers in labels (timestamps may hold 057)


def test_histogram_edges_include_every_target(example: Center) -> None:
    text = generate_latest(Exporter(example).registry).decode()
    assert "lotse_answer_seconds" in text
    exporter = Exporter(example)
    feed(exporter, "answered")
    text = generate_latest(exporter.registry).decode()
    assert 'le="60.0"' in text and 'le="30.0"' in text  # the Jobcenter's 80/60 and the center's 80/30


def test_waiting_callers_and_longest_wait(example: Center) -> None:
    exporter = Exporter(example)
    tracker = feed(exporter, "answered", stop_before="AgentConnect")  # the caller is still waiting
    (call,) = tracker.calls.values()
    assert call.queued is not None
    exporter.update_live(tracker, now=call.queued + 12.5)
    text = generate_latest(exporter.registry).decode()
    assert 'lotse_queue_callers_waiting{queue="buergerservice"} 1.0' in text
    assert 'lotse_queue_longest_wait_seconds{queue="buergerservice"} 12.5' in text
    assert 'lotse_queue_callers_waiting{queue="kfz"} 0.0' in text
