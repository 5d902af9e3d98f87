"""The routing YAML's field formats: ids, telephone keys, times and intervals, German states, e-mail addresses.

Annotated types that routing.schema's models (and the agents file's) use for their fields; each check raises a
ValueError whose text says what is wrong and what would be right.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from routing.schedule import GERMAN_STATES, parse_clock, parse_interval, parse_weekdays

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DTMF_KEYS = "0123456789*#"
QUEUE_STRATEGIES = ("ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "rrordered", "linear", "wrandom")


def check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"'{value}' is not a valid id: use 1-40 lowercase letters, digits, '_' and '-', "
            "starting with a letter or digit (ids become Asterisk queue and variable values)"
        )
    return value


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not a known time zone, e.g. Europe/Berlin") from None
    return value


# Abbreviations people write for their state, and the ISO 3166-2 code lotse (and the holidays package) uses.
STATE_ALIASES = {
    "NRW": "NW", "BAY": "BY", "NDS": "NI", "BAWÜ": "BW", "BAWUE": "BW", "RLP": "RP", "SA": "ST", "LSA": "ST",
    "SAC": "SN", "SAX": "SN", "THÜ": "TH", "MVP": "MV", "SLH": "SH", "BRB": "BB", "BER": "BE", "HES": "HE",
}  # fmt: skip


def _check_state(value: str) -> str:
    if value not in GERMAN_STATES:
        alias = STATE_ALIASES.get(value.upper()) or (value.upper() if value.upper() in GERMAN_STATES else None)
        hint = f"did you mean {alias}? " if alias else ""
        raise ValueError(f"'{value}' is not a German state code; {hint}use one of {', '.join(GERMAN_STATES)}")
    return value


def _check_weekdays(value: str) -> str:
    parse_weekdays(value)
    return value


def _check_interval(value: str) -> str:
    parse_interval(value)
    return value


def _check_dtmf(value: str) -> str:
    if len(value) != 1 or value not in DTMF_KEYS:
        raise ValueError(f"'{value}' is not one telephone key; use one of 0-9, * or #")
    return value


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _closed_as_empty(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("closed", "geschlossen"):
        return []
    return _as_list(value)


Id = Annotated[str, AfterValidator(check_id)]
State = Annotated[str, AfterValidator(_check_state)]
IntervalText = Annotated[str, AfterValidator(_check_interval), Field(examples=["07:00-18:00"])]
_INTERVALS_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^\d\d:\d\d-\d\d:\d\d$|^closed$"},
        {"type": "array", "items": {"type": "string", "pattern": r"^\d\d:\d\d-\d\d:\d\d$"}},
    ]
}
Intervals = Annotated[list[IntervalText], BeforeValidator(_closed_as_empty), WithJsonSchema(_INTERVALS_SCHEMA)]
WeekdayKey = Annotated[str, AfterValidator(_check_weekdays)]
Hours = dict[WeekdayKey, Intervals]
Dtmf = Annotated[str, AfterValidator(_check_dtmf)]
Seconds = Annotated[int, Field(ge=1, le=86400)]
Percent = Annotated[float, Field(gt=0, le=100)]
DueHours = Annotated[int, Field(ge=1, le=2000, description="a ticket's Rückmeldung is due after this many service hours")] | None


def _check_email(value: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValueError(f"'{value}' is not an e-mail address, e.g. standesamt@minden.de")
    return value


Email = Annotated[str, AfterValidator(_check_email)]


def check_clock(value: str) -> str:
    parse_clock(value)
    return value
