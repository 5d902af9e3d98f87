"""The body of a ticket API request: JSON, UTF-8, an object with at most a note, and small.

Its size is checked before a byte is read (Content-Length) and again while it streams in (a chunked body has
no length): a body over ``MAX_BODY`` is refused at that point and never held whole. Each refusal is a
BodyError with the HTTP status and a message that names what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

MAX_BODY = 16 * 1024  # bytes: a note is at most 400 characters; generous for a JSON object around it
MAX_NOTE = 400  # characters (the history's note column)


class BodyError(ValueError):
    """A body the API refuses; ``status`` is 400, 413 or 415."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def note_of(request: Request) -> str:
    """The note of a claim, done or cancel ('' without a body); raises BodyError."""
    body = parse(await read(request))
    note = body.get("note", "")
    if not isinstance(note, str):
        raise BodyError(400, f"'note' must be a text, not {type(note).__name__}")
    if len(note) > MAX_NOTE:
        raise BodyError(400, f"the note has {len(note)} characters; at most {MAX_NOTE}")
    return note


async def read(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body's bytes, refused by its announced length before reading, by its type, and as it streams past ``limit``."""
    length = request.headers.get("content-length")
    if length is not None and not length.isdigit():
        raise BodyError(400, f"Content-Length '{length[:20]}' is not a number of bytes")
    if length is not None and int(length) > limit:
        raise BodyError(413, f"the body has {int(length)} bytes; at most {limit}")
    announced = int(length) > 0 if length is not None else "transfer-encoding" in request.headers
    if announced:
        _check_type(request.headers.get("content-type", ""))
    found = bytearray()
    async for chunk in request.stream():
        found += chunk
        if len(found) > limit:
            raise BodyError(413, f"the body is longer than {limit} bytes")
    if found and not announced:
        _check_type(request.headers.get("content-type", ""))
    return bytes(found)


def _check_type(header: str) -> None:
    kind, _, params = header.partition(";")
    kind = kind.strip().lower()
    if kind != "application/json":
        raise BodyError(415, f"the body must be application/json, not {kind[:60] or 'without a Content-Type'}")
    for param in params.split(";"):
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise BodyError(415, f"the body must be UTF-8, not {charset[:30]}")


def parse(raw: bytes) -> dict[str, Any]:
    """A JSON object of at most a note from the body's bytes ({} when empty); raises BodyError naming the problem."""
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(400, f"the body is not UTF-8: byte 0x{raw[exc.start]:02x} at position {exc.start}") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(400, f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BodyError(400, "the body is not JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise BodyError(400, 'the body must be an object, e.g. {"note": "zurückgerufen"}')
    unknown = [key for key in body if key != "note"]
    if unknown:
        raise BodyError(400, f"unknown key '{unknown[0][:40]}' in the body; it takes only 'note'")
    return body
