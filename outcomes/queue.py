"""Outcome queue: the caller waits in an agent queue (app_queue), with the whisper on the agent's leg.

The dialplan does it all: the IVR has nothing more to ask. After the queue's max_wait, or when app_queue
refuses the caller (full, nobody logged in), the call goes to `next`: lotse decides the overflow.
"""

from __future__ import annotations

from outcomes.kind import DispatchOptions, OutcomeKind, nothing_to_ask
from outcomes.results import Facts, Result, closed_or
from pbx import contract as c
from routing.model import Outcome

# app_queue's QUEUESTATUS values for a caller it did not take or let go because nobody could answer.
QUEUE_REFUSED = (
    '("${QUEUESTATUS}" = "FULL" | "${QUEUESTATUS}" = "JOINEMPTY" | "${QUEUESTATUS}" = "JOINUNAVAIL"'
    ' | "${QUEUESTATUS}" = "LEAVEEMPTY" | "${QUEUESTATUS}" = "LEAVEUNAVAIL")'
)


def dialplan(options: DispatchOptions) -> list[str]:
    return [
        f"exten => queue,1,Set(QUEUE_PRIO=${{{c.VAR_PRIORITY}}})",
        f" same => n,Set(CALLERID(name)=${{{c.VAR_AGENT_LABEL}}})",
        f" same => n,QueueLog(${{{c.VAR_QUEUE}}},${{UNIQUEID}},NONE,LOTSE,${{{c.VAR_TENANT}}}|${{{c.VAR_ENTRY}}}|${{{c.VAR_TOPIC}}})",
        f" same => n,Set({c.VAR_JOINED}=${{EPOCH}})",  # the place a callback requested from this queue keeps
        # Queue(name,options,URL,announceoverride,timeout,AGI,gosub): app_queue runs Gosub(<gosub>,s,1) on the
        # agent leg before bridging (Asterisk 21+ has no macro argument)
        # option t: the agent may transfer the caller (hand-on to a department: render/agent_codes.py)
        f" same => n,Queue(${{{c.VAR_QUEUE}}},t,,,${{{c.VAR_QUEUE_TIMEOUT}}},,{c.CONTEXT_WHISPER})",
        f' same => n,GotoIf($["${{QUEUESTATUS}}" = "TIMEOUT" | {QUEUE_REFUSED}]?next,1)',
        " same => n,Hangup()",
    ]


def result(facts: Facts) -> Result:
    """Never joined (hung up on the way): like a hang-up. A caller who waited is counted before (answered, abandoned)."""
    return closed_or(facts, Result.HANGUP)


KIND = OutcomeKind(Outcome.QUEUE, nothing_to_ask, dialplan, result)
