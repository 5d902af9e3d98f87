"""lotse serve's journal: one JSON line per IVR session, what lotse decided for a call.

lotse metrics builds its records from AMI events. When its AMI link is down (a cut,
a restart), a call that begins and ends inside the gap without reaching a queue (a
callback request, a closed announcement, a caller who hangs up in the menu) leaves no
trace in queue_log; the journal is the second source that lotse owns. lotse serve
appends a line when a session ends (``--journal``); lotse metrics reads the lines of
the gap when it logs in again (``--journal``, the same file).

A line: {"uniqueid", "started", "ended", "dialled", "caller", "variables"} with the
contract's LOTSE_* variables of the decision (empty when the caller hung up in the
IVR). A call asked again after an overflow has a line per session; the last counts.
The file is rotated to ``<path>.1`` beyond ``max_bytes``; both are read.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from pbx import contract as c

log = logging.getLogger("lotse.journal")

MAX_BYTES = 32 * 1024 * 1024  # about five days of a large center (20,000 calls a day, 300 bytes a line)
KEPT = (c.VAR_TENANT, c.VAR_ENTRY, c.VAR_TOPIC, c.VAR_OUTCOME, c.VAR_REASON, c.VAR_QUEUE, c.VAR_DEPARTMENT, c.VAR_CALLER)


@dataclass
class Entry:
    uniqueid: str
    started: float  # the first session began (the call was answered by the dialplan a moment before)
    ended: float  # the last session ended
    dialled: str = ""
    caller: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    sessions: int = 1


class Journal:
    """Appends lines; a failed write is logged once per state, never raised into a call."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.failed = False

    def write(self, uniqueid: str, started: float, ended: float, dialled: str, caller: str, variables: dict[str, str]) -> None:
        """``variables``: the decision's contract variables by name (session.decision_values), empty without one."""
        kept = {name: variables.get(name, "") for name in KEPT} if variables else {}
        data = {"uniqueid": uniqueid, "started": round(started, 3), "ended": round(ended, 3), "dialled": dialled, "caller": caller}
        line = json.dumps(data | {"variables": kept}, ensure_ascii=False)
        try:
            with self.path.open("a", encoding="utf-8") as out:  # one write per line: whole lines, also from a crash
                out.write(line + "\n")
                full = out.tell() > self.max_bytes
            if full:
                os.replace(self.path, rotated(self.path))
        except OSError as exc:
            if not self.failed:
                log.error("cannot write the journal %s: %s (lotse metrics cannot recover calls from it)", self.path, exc)
            self.failed = True
            return
        if self.failed:
            log.info("journal %s written again", self.path)
        self.failed = False


def rotated(path: Path) -> Path:
    return path.with_name(path.name + ".1")


def read(path: Path, since: float) -> dict[str, Entry]:
    """The calls whose last session ended at ``since`` or later; unreadable lines are counted and skipped."""
    found: dict[str, Entry] = {}
    bad = 0
    for part in (rotated(path), path):
        try:
            text = part.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot read the journal %s: %s", part, exc)
            continue
        for line in text.splitlines():
            try:
                data = json.loads(line)
                if not isinstance(data.get("variables"), dict):
                    raise TypeError("variables is not a mapping")
                entry = Entry(
                    str(data["uniqueid"]),
                    float(data["started"]),
                    float(data["ended"]),
                    str(data.get("dialled", "")),
                    str(data.get("caller", "")),
                    {str(k): str(v) for k, v in data["variables"].items()},
                )
            except (ValueError, TypeError, KeyError, AttributeError):  # AttributeError: a line that is not an object
                bad += 1
                continue
            earlier = found.get(entry.uniqueid)
            if earlier is not None:  # asked again after an overflow: the first start, the last decision
                entry.started, entry.sessions = earlier.started, earlier.sessions + 1
                entry.dialled = earlier.dialled or entry.dialled
                if not entry.variables:  # hung up during the later session: what was decided before still tells
                    entry.variables = earlier.variables
            found[entry.uniqueid] = entry
    if bad:
        log.warning("journal %s: %d unreadable line(s) skipped", path, bad)
    return {uid: entry for uid, entry in found.items() if entry.ended >= since}
