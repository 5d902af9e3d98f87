"""Outcome hangup: lotse ends the call (after the decision's announcements, e.g. the closed notice)."""

from __future__ import annotations

from outcomes.kind import DispatchOptions, OutcomeKind, nothing_to_ask
from outcomes.results import Facts, Result, closed_or
from routing.model import Outcome


def dialplan(options: DispatchOptions) -> list[str]:
    return ["exten => hangup,1,Hangup()"]


def result(facts: Facts) -> Result:
    return closed_or(facts, Result.HANGUP)


KIND = OutcomeKind(Outcome.HANGUP, nothing_to_ask, dialplan, result)
