"""Outcome callback: lotse takes a number to call back and promises when (a callback, or a ticket's Rückmeldung).

The IVR reads the caller's number back for confirmation or takes one keyed in, then says when to expect the
call; the dialplan leaves the request in the spool (pbx.spool), where lotse promises takes it.
"""

from __future__ import annotations

from collections.abc import Generator

from outcomes.commands import Command, Ending, GetDigits, Steps, Stream, WaitDigit, path
from outcomes.kind import DispatchOptions, OutcomeKind
from outcomes.results import Facts, Result
from pbx import contract as c
from pbx.spool import request_value
from routing.engine import Decision
from routing.model import Center, Outcome, Prompt
from routing.promises import CallbackNumberError, callback_number, callback_queue, due_hours, national, promise_kind

KEY_IN_ATTEMPTS = 3  # a caller who keys in a number lotse cannot call back may try this often

# What a caller hears while lotse takes a callback number; the digits are read one by one (German sounds of
# Asterisk are not needed: lotse synthesises these with the others).
CALLBACK_PROMPTS = {
    "your-number": Prompt("callback/your-number", "Wir rufen Sie unter dieser Nummer zurück:"),
    "confirm": Prompt("callback/confirm", "Wenn die Nummer richtig ist, drücken Sie die 1. Für eine andere Nummer drücken Sie die 2."),
    "enter": Prompt("callback/enter", "Bitte geben Sie Ihre Rufnummer mit Vorwahl ein und drücken Sie dann die Raute-Taste."),
    "invalid": Prompt("callback/invalid", "Unter dieser Nummer können wir Sie leider nicht zurückrufen."),
    "none": Prompt("callback/none", "Leider konnten wir keine Rückrufnummer aufnehmen. Bitte rufen Sie später wieder an."),
    "callback": Prompt(
        "callback/promise-callback",
        "Vielen Dank. Sie behalten Ihren Platz in der Warteschlange. Wir rufen Sie zurück, sobald Sie an der Reihe sind.",
    ),
}
DIGIT_WORDS = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
DIGIT_PROMPTS = tuple(Prompt(f"digits/{n}", word) for n, word in enumerate(DIGIT_WORDS))
CALLBACK_WHISPER = Prompt("whisper/callback", "Rückruf")


def promise_prompt(kind: str, hours: int) -> Prompt:
    """What the caller hears when their request is taken: when to expect the call."""
    if kind == "callback":
        return CALLBACK_PROMPTS["callback"]
    return Prompt(
        f"callback/promise-ticket-{hours}h",
        f"Vielen Dank. Ihr Anliegen ist aufgenommen. Wir melden uns innerhalb von {hours} Stunden unserer Servicezeiten bei Ihnen.",
    )


def step(center: Center, decision: Decision, prompts: str) -> Steps:
    promise = promise_kind(decision.reason)
    number = yield from _callback_number(decision.ctx.caller, center.country_code, prompts)
    if number:
        hours = due_hours(center, decision.tenant, decision.ctx.entry_id, decision.ctx.topic, decision.department)
        yield Stream(path(prompts, promise_prompt(promise, hours)))
    queue = decision.queue or callback_queue(center, decision.ctx.tenant, decision.ctx.topic)
    return Ending({c.VAR_CALLBACK_NUMBER: number, c.VAR_PROMISE: promise, c.VAR_QUEUE: queue or ""})


def _callback_number(caller: str | None, country_code: str, prompts: str) -> Generator[Command, str | None, str]:
    """Read the caller's number back to confirm it, or take another one keyed in; '' when none could be taken."""
    if caller is not None:
        try:
            known = callback_number(national(caller, country_code), country_code)
        except CallbackNumberError:
            known = None  # e.g. a foreign caller ID: a German number must be keyed in
        if known is not None:
            yield Stream(path(prompts, CALLBACK_PROMPTS["your-number"]))
            for digit in national(known, country_code):
                yield Stream(path(prompts, f"digits/{digit}"))
            key = yield Stream(path(prompts, CALLBACK_PROMPTS["confirm"]), "12")
            if key is None:
                key = yield WaitDigit(5000)
            if key != "2":  # 1, or nothing pressed: the number is right
                return known
    for _ in range(KEY_IN_ATTEMPTS):
        keyed = yield GetDigits(path(prompts, CALLBACK_PROMPTS["enter"]), 10000, 16)
        try:
            return callback_number(keyed or "", country_code)
        except CallbackNumberError:
            yield Stream(path(prompts, CALLBACK_PROMPTS["invalid"]))
    yield Stream(path(prompts, CALLBACK_PROMPTS["none"]))
    return ""


def dialplan(options: DispatchOptions) -> list[str]:
    return [
        f"exten => callback,1,UserEvent({c.EVENT_CALLBACK},Tenant: ${{{c.VAR_TENANT}}},Entry: ${{{c.VAR_ENTRY}}},Topic: ${{{c.VAR_TOPIC}}},"
        f"Reason: ${{{c.VAR_REASON}}})",
        "; The request is left in a file (kept across restarts) until lotse promises has taken it.",
        f' same => n,GotoIf($["${{{c.VAR_CALLBACK_NUMBER}}}" = ""]?done)',
        f" same => n,Set(FILE({options.spool}/{c.SPOOL_REQUESTS}/${{UNIQUEID}})={request_value()}{c.SPOOL_END})",
        f" same => n,UserEvent({c.EVENT_PROMISE},Key: ${{UNIQUEID}})",
        " same => n(done),Hangup()",
    ]


def result(facts: Facts) -> Result:
    return Result.CALLBACK


KIND = OutcomeKind(Outcome.CALLBACK, step, dialplan, result)
