"""The shape of an outcome kind: what every module in outcomes/ gives the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from outcomes.commands import Ending, Steps
from outcomes.results import Facts, Result
from routing.engine import Decision
from routing.model import Center, Outcome


@dataclass(frozen=True, slots=True)
class DispatchOptions:
    """What an outcome's dialplan needs of the render options."""

    dial: str  # how a number is dialled; {number} is E.164 (RenderOptions.dial)
    spool: str  # the promises spool folder as Asterisk sees it


def nothing_to_ask(center: Center, decision: Decision, prompts: str) -> Steps:
    """The IVR step of an outcome that the dialplan carries out alone (queue, department, hang-up)."""
    return Ending({})
    yield  # a generator that yields nothing


@dataclass(frozen=True, slots=True)
class OutcomeKind:
    """One outcome: its IVR step after the decision's announcements, its extension of the dispatch context, its result."""

    outcome: Outcome
    step: Callable[[Center, Decision, str], Steps]  # (center, decision, prompts folder as Asterisk sees it)
    dialplan: Callable[[DispatchOptions], list[str]]  # the lines of `exten => <outcome>,...` in CONTEXT_DISPATCH
    result: Callable[[Facts], Result]  # what the call's record says, when no agent answered and no queue was left
