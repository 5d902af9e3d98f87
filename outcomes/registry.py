"""The outcome kinds by their Outcome: where the call flow, the dialplan and the records find each one."""

from __future__ import annotations

from collections.abc import Mapping

from outcomes import callback, department, hangup, info, queue, voicemail
from outcomes.kind import DispatchOptions, OutcomeKind
from outcomes.results import Facts, Result, closed, closed_or
from routing.model import Outcome

KINDS: Mapping[Outcome, OutcomeKind] = {k.outcome: k for k in (m.KIND for m in (queue, department, voicemail, callback, hangup, info))}


def kind(outcome: Outcome) -> OutcomeKind:
    return KINDS[outcome]


def dispatch(options: DispatchOptions) -> list[str]:
    """The extensions of CONTEXT_DISPATCH, one (or more) per outcome kind, in Outcome's order."""
    return [line for outcome in Outcome for line in KINDS[outcome].dialplan(options)]


def result(decided: str, facts: Facts) -> Result:
    """What a call's record says by the outcome lotse decided last ('': none: hung up in the IVR)."""
    if not decided:
        return Result.CLOSED if closed(facts) else Result.ABANDONED_IVR
    if decided not in Outcome._value2member_map_:  # a dialplan of another version: counted as ended by lotse
        return closed_or(facts, Result.HANGUP)
    return KINDS[Outcome(decided)].result(facts)
