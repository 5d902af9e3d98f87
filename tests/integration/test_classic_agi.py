"""The classic per-call AGI script (agi_scripts/lotse_agi.py) through the real Asterisk: same results as the engine."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from routing.engine import Call, decide
from routing.loader import load_or_raise
from tests.conftest import at
from tests.integration.conftest import Lab
from tests.integration.lab import ROOT, Ami, lab, new_caller, of

MONDAY = "2026-11-23 10:00"


@pytest.fixture(scope="module")
def classic(asterisk: Lab) -> Iterator[Lab]:
    """The lab rendered with --agi classic; lotse-agi runs inside the chroot with the routing clock pinned."""
    lab("prepare", str(ROOT / "config"), env={"LOTSE_LAB_AGI": "classic", "LOTSE_PRETEND_TIME": MONDAY})
    yield asterisk
    lab("prepare", str(ROOT / "config"))  # back to FastAGI for whatever runs next


CASES = [("0571890", "0571", "1", "buergerservice"), ("115", "05722", "2", "buergerservice"), ("05718070", "0571", "12", "kfz")]


def test_classic_script_routes_like_the_engine(classic: Lab) -> None:
    """The three calls at once (a city's number, 115 by area code, the county's Kfz line): one lab round, not three."""
    center = load_or_raise(ROOT / "config")

    async def one(ami: Ami, number: str, prefix: str, keys: str, queue: str) -> None:
        caller = new_caller(prefix)
        expected = decide(center, Call(number, caller), at(MONDAY), keys=keys)
        await ami.call(number, caller, keys)
        decision = await ami.decision(caller)
        got = tuple(decision[name] for name in ("LOTSE_OUTCOME", "LOTSE_TENANT", "LOTSE_ENTRY", "LOTSE_TOPIC", "LOTSE_QUEUE"))
        wanted = (
            expected.outcome.value,
            expected.tenant or "",
            expected.ctx.entry.value if expected.ctx.entry else "",
            expected.ctx.topic or "",
            expected.queue or "",
        )
        assert (number, got) == (number, wanted)
        assert wanted[-1] == queue
        await ami.wait_for(f"{number}: the join", of(caller, "QueueCallerJoin", Queue=queue))

    async def scenario() -> None:
        async with Ami() as ami:
            await asyncio.gather(*(one(ami, *case) for case in CASES))

    asyncio.run(scenario())
