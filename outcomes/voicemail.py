"""Outcome voicemail: the caller leaves a message, in app_voicemail's box or through a message intake.

A message intake (e.g. sick notes for the schools) first takes the keyed-in fields it asks for; the dialplan
records the message into the spool, and lotse promises delivers it in the next batch.
"""

from __future__ import annotations

from outcomes.commands import Ending, GetDigits, Steps, path
from outcomes.kind import DispatchOptions, OutcomeKind
from outcomes.results import Facts, Result, closed
from pbx import contract as c
from routing.engine import Decision
from routing.model import Center, Outcome

FIELD_TIMEOUT_MS = 10000  # how long a caller has to key in one field of an intake


def step(center: Center, decision: Decision, prompts: str) -> Steps:
    intake = center.intake(decision.mailbox)
    if intake is None:
        return Ending({})
    keyed = []
    for field in intake.fields:  # e.g. the school's number, before the message is recorded
        digits = yield GetDigits(path(prompts, field.prompt), FIELD_TIMEOUT_MS, field.max_digits)
        keyed.append(f"{field.name}={digits or '-'}")
    return Ending({c.VAR_MESSAGE_FIELDS: "; ".join(keyed), c.VAR_MESSAGE_INTAKE: intake.id})


def dialplan(options: DispatchOptions) -> list[str]:
    message = f"${{{c.VAR_MESSAGE_FILE}}}"
    return [
        f'exten => voicemail,1,GotoIf($["${{{c.VAR_MESSAGE_INTAKE}}}" != ""]?message)',
        f" same => n,VoiceMail(${{{c.VAR_MAILBOX}}},u)",
        " same => n,Hangup()",
        "; A message intake's message: recorded into the spool with its facts; lotse promises delivers it in the next batch.",
        f" same => n(message),Set({c.VAR_MESSAGE_FILE}={options.spool}/{c.SPOOL_MESSAGES}/${{UNIQUEID}})",
        f" same => n,Set(FILE({message}.msg)=${{{c.VAR_MESSAGE_INTAKE}}}|${{EPOCH}}|${{CALLERID(num)}}"
        f"|${{{c.VAR_MESSAGE_FIELDS}}}{c.SPOOL_END})",
        f" same => n,Record({message}.wav,5,180,kqx)",  # ends after 5 s of silence, 3 minutes, or the hang-up
        " same => n,Hangup()",
        "; The recording is complete once the caller has gone: then the .done file.",
        f'exten => h,1,ExecIf($["{message}" != ""]?Set(FILE({message}.done)=${{RECORD_STATUS}}|${{EPOCH}}{c.SPOOL_END}))',
    ]


def result(facts: Facts) -> Result:
    return Result.CLOSED if closed(facts) else Result.VOICEMAIL


KIND = OutcomeKind(Outcome.VOICEMAIL, step, dialplan, result)
