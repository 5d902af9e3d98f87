"""Message intakes: the messages app_voicemail recorded, and when their batch is due. The batch rule is pure.

A batch at 10:30 carries every message recorded before 10:30 that no earlier
batch carried. lotse promises delivers a batch as one e-mail per recipient, with
the recordings attached, and logs each message's delivery; a batch it could not
send (SMTP down) goes out as soon as the mail server is back, nothing is lost.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

from routing.model import Center, MessageIntake
from routing.promises import national


@dataclass(frozen=True, slots=True)
class Message:
    msg_id: str
    recorded: float  # origtime
    caller: str  # the caller ID as app_voicemail stored it
    fields: str  # VM_CATEGORY: the keyed-in fields
    duration: int
    sound: Path | None


def last_batch(times: tuple[int, ...], now: float, tz: ZoneInfo) -> float | None:
    """The latest batch time (seconds after local midnight, any day) at or before ``now``; None before the first ever."""
    local = datetime.fromtimestamp(now, tz)
    for day in (local.date(), local.date() - timedelta(days=1)):
        for second in sorted(times, reverse=True):
            at = _wall(day, second, tz)
            if at <= now:
                return at
    return None


def _wall(day: date, second: int, tz: ZoneInfo) -> float:
    return (datetime.combine(day, time()) + timedelta(seconds=second)).replace(tzinfo=tz).timestamp()


def inbox(voicemail: Path, mailbox: str) -> Path:
    """app_voicemail's folder of a box: <spool>/voicemail/<context>/<box>/INBOX."""
    box, _, context = mailbox.partition("@")
    return voicemail / (context or "default") / box / "INBOX"


def recorded(voicemail: Path, intake: MessageIntake) -> list[Message]:
    """The intake's messages in app_voicemail's INBOX, oldest first; a .txt that cannot be read is skipped (it is still being written)."""
    found = []
    folder = inbox(voicemail, intake.mailbox)
    if not folder.is_dir():
        return []
    for txt in sorted(folder.glob("msg*.txt")):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(txt.read_text(encoding="utf-8", errors="replace"))
            info = parser["message"]
            stamp = float(info.get("origtime", ""))
        except (configparser.Error, KeyError, ValueError):
            continue
        sound = next((p for p in txt.parent.glob(f"{txt.stem}.*") if p.suffix.lower() in (".wav", ".gsm", ".mp3")), None)
        msg_id = info.get("msg_id", "") or f"{intake.mailbox}/{txt.stem}/{int(stamp)}"
        found.append(Message(msg_id, stamp, info.get("callerid", ""), info.get("category", ""), int(info.get("duration", "0") or 0), sound))
    return sorted(found, key=lambda m: m.recorded)


def batch_mail(center: Center, intake: MessageIntake, messages: list[Message], batch: float, sender: str, to: str) -> EmailMessage:
    when = datetime.fromtimestamp(batch, center.tz).strftime("%d.%m.%Y %H:%M")
    mail = EmailMessage()
    mail["From"], mail["To"] = sender, to
    mail["Subject"] = f"{intake.name}: {len(messages)} Nachricht(en) bis {when}"
    lines = [f"Guten Tag,\n\nhier sind die Nachrichten für {intake.name} bis {when}:\n"]
    for n, m in enumerate(messages, 1):
        at = datetime.fromtimestamp(m.recorded, center.tz).strftime("%d.%m.%Y %H:%M")
        number = m.caller.rsplit("<", 1)[-1].rstrip(">") if "<" in m.caller else m.caller
        lines.append(f"{n}. {at}, Anrufer {national(number, center.country_code) or '(unterdrückt)'}, {m.duration} s; {m.fields or '-'}")
    mail.set_content("\n".join(lines) + "\n\nDie Aufnahmen sind angehängt.\n")
    for n, m in enumerate(messages, 1):
        if m.sound is not None and m.sound.is_file():
            mail.add_attachment(m.sound.read_bytes(), maintype="audio", subtype="wav", filename=f"nachricht-{n}{m.sound.suffix}")
    return mail
