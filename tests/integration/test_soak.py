"""The soak in its short form (bench/soak.py): 60 calls through the lab Asterisk in 30 s, every fault once for 4 s."""

from __future__ import annotations

from bench.soak import run
from tests.integration.conftest import Lab


def test_no_call_and_no_record_lost_under_every_fault(asterisk: Lab) -> None:
    assert run(calls=60, rate=2.0, fault_seconds=4.0) == []
