"""The spool's request file, written by the dialplan and read by lotse promises: its format in one place.

A request is one line, the fields of REQUEST_FIELDS joined by '|' and ended by contract.SPOOL_END; the
dialplan writes it with FILE() from the channel's variables (request_value), lotse promises reads it back
with request_fields.
"""

from __future__ import annotations

from typing import Final

from pbx import contract as c

# field -> what the dialplan writes into it (a channel variable, or ${EPOCH} for the time the request was left)
REQUEST_FIELDS: Final = {
    "kind": c.VAR_PROMISE,  # callback or ticket
    "created": "EPOCH",
    "tenant": c.VAR_TENANT,
    "entry": c.VAR_ENTRY,
    "topic": c.VAR_TOPIC,
    "queue": c.VAR_QUEUE,
    "department": c.VAR_DEPARTMENT,
    "reason": c.VAR_REASON,
    "number": c.VAR_CALLBACK_NUMBER,  # the number to call back, in key form
    "joined": c.VAR_JOINED,  # when the caller joined the queue, the place a queue callback keeps; empty: not queued
}
SEPARATOR: Final = "|"


def request_value() -> str:
    """The dialplan's expression for a request's line (without SPOOL_END)."""
    return SEPARATOR.join(f"${{{source}}}" for source in REQUEST_FIELDS.values())


def request_fields(key: str, value: str) -> dict[str, str]:
    """A request line's fields by name; ValueError names the request and what is off."""
    parts = value.split(SEPARATOR)
    if len(parts) != len(REQUEST_FIELDS):
        raise ValueError(f"request {key}: {len(parts)} fields, expected {len(REQUEST_FIELDS)} ({SEPARATOR.join(REQUEST_FIELDS)})")
    return dict(zip(REQUEST_FIELDS, parts, strict=True))
