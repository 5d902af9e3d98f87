"""The AGI protocol, pure: environment parsing, command text, reply meaning.

Socket and process I/O live in ivr.fastagi and agi_scripts; everything here
is text in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from panoramisk.utils import parse_agi_result

from outcomes.commands import Command, GetDigits, SetVariable, Stream, WaitDigit
from pbx import contract as c
from routing.engine import Outcome, Resume
from routing.model import Entry
from routing.numbers import caller_key
from routing.problems import LotseError

# Presentation values (agi_callingpres) whose number must not be shown: 32-39 restricted, 64-71 unavailable.
_HIDDEN_PRESENTATION = frozenset(range(32, 40)) | frozenset(range(64, 72))
MAX_ENVIRONMENT_LINES = 200  # Asterisk sends about 25 agi_* lines and at most 127 arguments
MAX_ENVIRONMENT_BYTES = 32 * 1024  # the whole AGI environment
MAX_VALUE = 256  # characters of one value lotse uses (unique id, dialled number, an argument)
MAX_NUMBER = 40  # characters of a caller ID; E.164 numbers have at most 15 digits


class AgiError(LotseError):
    """Asterisk answered a command with an error."""


class CallerHungUp(LotseError):  # noqa: N818 - an event, not a fault: the caller left
    """The caller hung up; not an error, the call is simply over."""


@dataclass(frozen=True, slots=True)
class Environment:
    """What Asterisk tells an AGI script about the call."""

    script: str  # agi_network_script (FastAGI) or agi_request
    uniqueid: str
    channel: str
    caller: str | None  # None when hidden
    dialled: str
    args: tuple[str, ...]


def parse_environment(lines: Iterable[str]) -> Environment:
    """The ``agi_*`` header lines up to the blank line; raises ValueError naming what is missing."""
    headers: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition(": ")
        if sep and key.startswith("agi_"):
            headers[key] = value
    return environment(headers)


def environment(headers: Mapping[str, str]) -> Environment:
    """The call's facts from the ``agi_*`` headers; raises ValueError naming the header that is missing or too long.

    A caller ID that is too long or unreadable routes like a hidden number (it is the caller's to send, and
    the dialled number still decides the tenant); every other value is bounded.
    """
    for key, value in headers.items():
        if len(value) > MAX_VALUE and key != "agi_callerid":
            raise ValueError(f"{key} is {len(value)} characters long (at most {MAX_VALUE})")
    script = headers.get("agi_network_script") or headers.get("agi_request", "").rsplit("/", 1)[-1]
    if not script:
        raise ValueError("the AGI environment has neither agi_network_script nor agi_request")
    uniqueid = headers.get("agi_uniqueid", "")
    if not uniqueid:
        raise ValueError("the AGI environment has no agi_uniqueid")
    args = tuple(headers[f"agi_arg_{n}"] for n in range(1, 20) if f"agi_arg_{n}" in headers)
    pres = headers.get("agi_callingpres", "0")
    number = headers.get("agi_callerid", "")
    hidden = (pres.isdigit() and int(pres) in _HIDDEN_PRESENTATION) or number in ("", "unknown") or len(number) > MAX_NUMBER
    dialled = args[0] if args and args[0] else headers.get("agi_dnid") or headers.get("agi_extension", "")
    return Environment(script, uniqueid, headers.get("agi_channel", ""), None if hidden else number, dialled, args)


def command_text(command: Command) -> str:
    """The AGI command line for a session command."""
    if isinstance(command, Stream):
        return f"STREAM FILE {_quote(command.file)} {_quote(command.escape)}"
    if isinstance(command, WaitDigit):
        return f"WAIT FOR DIGIT {command.timeout_ms}"
    if isinstance(command, GetDigits):
        return f"GET DATA {_quote(command.file)} {command.timeout_ms} {command.max_digits}"
    assert isinstance(command, SetVariable)
    return f"SET VARIABLE {command.name} {_quote(command.value)}"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ") + '"'


def reply_value(command: Command, reply: Mapping[str, Any]) -> str | None:
    """The session result of a reply: the key pressed, or None. Raises on hang-up and errors."""
    error = reply.get("error")
    if error == "AGIResultHangup":
        raise CallerHungUp(reply.get("msg", "hung up"))
    if error == "AGIAppError" and isinstance(command, Stream | WaitDigit | GetDigits):
        raise CallerHungUp("the channel is gone")  # result=-1: hang-up during playback or wait
    if error:
        raise AgiError(f"{command_text(command)!r} failed: {error} {reply.get('msg', '')}".strip())
    if isinstance(command, SetVariable):
        return None
    code = reply.get("result", ("0", ""))[0]
    if isinstance(command, GetDigits):  # the keys pressed ('#' ends the input and is not included); '' for none
        return code if code.isdigit() else ""
    return chr(int(code)) if code.isdigit() and int(code) > 0 else None


def parse_reply(line: str) -> dict[str, Any]:
    """One AGI reply line, in panoramisk's form.

    The common '200 result=N[ endpos=M]' is read directly; everything else
    (hang-ups, errors, data in parentheses) goes to panoramisk's parser.
    """
    if line.startswith("200 result="):
        value, _, rest = line[11:].partition(" ")
        if value.isdigit() and "(" not in rest:
            return {"status_code": 200, "result": (value, ""), "msg": ""}
    result: dict[str, Any] = parse_agi_result(line)
    return result


def resume_from_args(args: tuple[str, ...]) -> Resume:
    """AGI args of the lotse-next route: outcome, queue or department, tenant, entry, topic, caller."""
    padded = (*args, "", "", "", "", "", "")[:6]
    outcome, ref, tenant, entry, topic, caller = padded
    if outcome not in (Outcome.QUEUE.value, Outcome.DEPARTMENT.value):
        raise ValueError(f"{c.AGI_ROUTE_NEXT}: first argument must be queue or department, got {outcome!r}")
    kind = Outcome(outcome)
    if entry in tuple(Entry):
        return Resume(kind, ref, tenant or None, Entry(entry), topic or None, caller_key(caller))
    # a tenant's further entry (its id): the engine checks that the tenant has it
    return Resume(kind, ref, tenant or None, Entry.OWN if entry else None, topic or None, caller_key(caller), entry or None)
