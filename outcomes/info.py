"""Outcome info: an information announcement the caller chose (e.g. the collection dates), resolved in the IVR.

The caller hears it, then which keys repeat it and lead back to the menu they chose it in; without a key the
call ends and counts as informed. It is played by the IVR: the dialplan only hangs up.
"""

from __future__ import annotations

from outcomes.commands import Ending, Steps, Stream, WaitDigit, path
from outcomes.kind import DispatchOptions, OutcomeKind
from outcomes.results import Facts, Result
from routing.engine import Decision
from routing.model import Center, Outcome


def step(center: Center, decision: Decision, prompts: str) -> Steps:
    tenant = decision.ctx.tenant
    info = tenant.infos.get(decision.ref or "") if tenant is not None else None
    if info is None:  # not reachable with a valid config: an info target names one of its tenant's infos
        return Ending({})
    back = info.back_key if decision.menu else ""  # the back key only where there is a menu to go back to
    escape = info.repeat_key + back
    for _ in range(info.plays):
        key = yield Stream(path(prompts, info.announcement), escape)
        if key is None:
            key = yield Stream(path(prompts, info.keys if back else info.repeat_only), escape)
        if key is None:
            key = yield WaitDigit(info.timeout * 1000)
        if back and key == back:
            return Ending({}, back_to=decision.menu)
        if key != info.repeat_key:
            break  # no key, or another one: the caller has heard it
    return Ending({})


def dialplan(options: DispatchOptions) -> list[str]:
    return ["exten => info,1,Hangup()"]


def result(facts: Facts) -> Result:
    return Result.INFORMED


KIND = OutcomeKind(Outcome.INFO, step, dialplan, result)
