"""Message intakes: the messages the dialplan recorded into the spool, and when their batch is due (a pure rule).

A batch at 10:30 carries every message recorded before 10:30 that no earlier
batch carried. lotse promises delivers a batch as one e-mail per recipient, with
the recordings attached, and logs each message's delivery; a batch it could not
send (SMTP down) goes out as soon as the mail server is back, nothing is lost.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from pbx import contract as c
from promises.inbox import OPEN_FLAGS, RefusedError, read
from routing.model import Center, MessageIntake
from routing.numbers import caller_key
from routing.promises import national
from routing.schedule import wall

BYTES_PER_SECOND = 16000  # Record()'s .wav: 8 kHz, 16 bit, mono


@dataclass(frozen=True, slots=True)
class Message:
    msg_id: str  # the call's unique id
    recorded: float
    caller: str  # the caller's number as Asterisk had it; empty when hidden
    fields: str  # the keyed-in fields, 'Schulnummer=123456'
    duration: int
    sound: Path | None


def last_batch(times: tuple[int, ...], now: float, tz: ZoneInfo) -> float | None:
    """The latest batch time (seconds after local midnight, any day) at or before ``now``; None before the first ever."""
    local = datetime.fromtimestamp(now, tz)
    for day in (local.date(), local.date() - timedelta(days=1)):
        for second in sorted(times, reverse=True):
            at = wall(day, second, tz).timestamp()
            if at <= now:
                return at
    return None


def spool_text(path: Path) -> str | None:
    """A message's .msg without its end marker; None while Asterisk is still writing it, or when it is no regular
    file or cannot be read (promises.inbox.read: never follows a symbolic link, never waits on a FIFO)."""
    try:
        return read(path, now=0.0)  # no age: a message's .msg waits for its .done anyway
    except RefusedError:
        return None


def recorded(spool: Path, intake: MessageIntake) -> list[Message]:
    """The intake's complete messages in the spool (those whose caller has hung up: a .done file), oldest first.

    Each message is <uniqueid>.msg ('intake|epoch|caller|fields|end', written before the recording), .wav and .done.
    """
    found = []
    for meta in sorted((spool / c.SPOOL_MESSAGES).glob("*.msg")):
        text = spool_text(meta)
        if text is None or not meta.with_suffix(".done").exists():
            continue  # being recorded
        parts = text.split("|")
        if len(parts) != 4 or parts[0] != intake.id:
            continue
        try:
            stamp = float(parts[1])
        except ValueError:
            continue
        sound = meta.with_suffix(".wav")
        size = _recording_size(sound)
        seconds = max(0, size - 44) // BYTES_PER_SECOND  # 8 kHz, 16 bit, mono, after the WAV header
        found.append(Message(meta.stem, stamp, parts[2], parts[3], seconds, sound if size else None))
    return sorted(found, key=lambda m: m.recorded)


def _recording_size(sound: Path) -> int:
    """The size of a message's recording; 0 when there is none, or it is no regular file (a symbolic link is not followed)."""
    try:
        info = os.lstat(sound)
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _recording(sound: Path) -> bytes | None:
    """A recording's bytes, read without following a symbolic link or waiting on a FIFO; None when it is no regular file."""
    try:
        fd = os.open(sound, OPEN_FLAGS)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read() if stat.S_ISREG(os.fstat(fd).st_mode) else None


def set_aside(spool: Path, messages: list[Message]) -> None:
    """Move messages delivered to every recipient to messages/delivered/ (kept there for the retention period)."""
    folder = spool / c.SPOOL_MESSAGES / "delivered"
    folder.mkdir(parents=True, exist_ok=True)
    for message in messages:
        for suffix in (".msg", ".wav", ".done"):
            path = spool / c.SPOOL_MESSAGES / f"{message.msg_id}{suffix}"
            if path.exists():
                path.rename(folder / path.name)


def batch_mail(center: Center, intake: MessageIntake, messages: list[Message], batch: float, sender: str, to: str) -> EmailMessage:
    when = datetime.fromtimestamp(batch, center.tz).strftime("%d.%m.%Y %H:%M")
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, to
    mail["Subject"] = f"{intake.name}: {len(messages)} Nachricht(en) bis {when}"
    lines = [f"Guten Tag,\n\nhier sind die Nachrichten für {intake.name} bis {when}:\n"]
    for n, m in enumerate(messages, 1):
        at = datetime.fromtimestamp(m.recorded, center.tz).strftime("%d.%m.%Y %H:%M")
        caller = national(caller_key(m.caller, center.country_code) or "", center.country_code) or "(unterdrückt)"
        lines.append(f"{n}. {at}, Anrufer {caller}, {m.duration} s; {m.fields or '-'}")
    mail.set_content("\n".join(lines) + "\n\nDie Aufnahmen sind angehängt.\n")
    for n, m in enumerate(messages, 1):
        data = _recording(m.sound) if m.sound is not None else None
        if m.sound is not None and data is not None:
            mail.add_attachment(data, maintype="audio", subtype="wav", filename=f"nachricht-{n}{m.sound.suffix}")
    return mail
