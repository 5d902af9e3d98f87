"""Outcome department: the call is forwarded to the responsible department (Lotsenfunktion).

The dialplan dials the department's number; when nobody answers within its ring timeout, the call goes to
`next` and lotse decides what follows (the department's `unanswered`, e.g. a callback promise).
"""

from __future__ import annotations

from outcomes.kind import DispatchOptions, OutcomeKind, nothing_to_ask
from outcomes.results import Facts, Result
from pbx import contract as c
from routing.model import Outcome


def dialplan(options: DispatchOptions) -> list[str]:
    return [
        f"exten => department,1,Set(CALLERID(name)=${{{c.VAR_AGENT_LABEL}}})",
        f" same => n,Dial({options.dial.format(number='${' + c.VAR_NUMBER + '}')},${{{c.VAR_RING_TIMEOUT}}})",
        ' same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)',
        " same => n,Goto(next,1)",
        " same => n(done),Hangup()",
    ]


def result(facts: Facts) -> Result:
    return Result.FORWARDED_ANSWERED if facts.department_answered else Result.FORWARDED_UNANSWERED


KIND = OutcomeKind(Outcome.DEPARTMENT, nothing_to_ask, dialplan, result)
