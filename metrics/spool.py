"""Records on their way to the database, kept on disk so that a restart or a crash loses none.

The spool is a file of JSON lines beside the database (``records.spool``): a record is
appended as soon as the call ends (written to the operating system at once, so a crash
or kill of lotse loses nothing; synced to the disk at least once a second, for a crash
of the machine), and the file is emptied, or rewritten without them, once the database
has the records. Records the database refuses are moved, with
the reason, to ``records.rejected`` and never retried: one bad record never blocks
the others. An unreadable spool line is moved there too.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from metrics.records import CallRecord, from_json, to_json

log = logging.getLogger("lotse.metrics")


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rejected_path = path.with_suffix(".rejected")
        self.records: dict[str, CallRecord] = {}  # unique id -> record, in the order they ended
        self.rejected = 0
        self._unsynced = False
        path.parent.mkdir(parents=True, exist_ok=True)
        self._load()
        self._file = path.open("a", encoding="utf-8")

    def _load(self) -> None:
        if not self.path.exists():
            return
        for number, line in enumerate(self.path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = from_json(line)
            except (ValueError, KeyError, TypeError) as exc:
                self._reject_line(line, f"{self.path}:{number}: unreadable: {exc}")
                continue
            self.records[record.uniqueid] = record
        if self.records:
            log.info("%d call record(s) from %s still to be written", len(self.records), self.path)

    def __len__(self) -> int:
        return len(self.records)

    def add(self, records: Iterable[CallRecord]) -> None:
        lines = []
        for record in records:
            self.records[record.uniqueid] = record
            lines.append(to_json(record) + "\n")
        self._file.write("".join(lines))
        self._file.flush()  # in the operating system now: a crash of this process loses nothing
        self._unsynced = True

    def sync(self) -> None:
        """To the disk itself (called once a second, and on close)."""
        if self._unsynced:
            os.fsync(self._file.fileno())
            self._unsynced = False

    def batch(self, size: int) -> list[CallRecord]:
        return list(self.records.values())[:size]

    def done(self, uniqueids: Iterable[str]) -> None:
        """The database has these: rewrite the spool without them."""
        for uniqueid in uniqueids:
            self.records.pop(uniqueid, None)
        self._rewrite()

    def reject(self, record: CallRecord, why: str) -> None:
        """The database refused this record: set it aside with the reason, never retry it."""
        self.rejected += 1
        log.error("call record %s refused by the database, kept in %s: %s", record.uniqueid, self.rejected_path, why)
        self._reject_line(to_json(record), why)
        self.records.pop(record.uniqueid, None)
        self._rewrite()

    def _reject_line(self, line: str, why: str) -> None:
        with self.rejected_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"reason": why, "record": line}, ensure_ascii=False) + "\n")

    def _rewrite(self) -> None:
        if not self.records:  # the usual case: the database has everything
            self._file.truncate(0)
            self._file.seek(0)
            self._unsynced = True
            return
        self._file.close()
        temporary = self.path.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as out:
            out.write("".join(to_json(r) + "\n" for r in self.records.values()))
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        self.sync()
        self._file.close()
