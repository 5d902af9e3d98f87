"""The spool folders lotse promises takes files from (requests/, results/): what it trusts there, and what it sets aside.

Asterisk's FILE() leaves one short line per file, ended by contract.SPOOL_END. The worker takes only such
files: regular files (opened without following a symbolic link and without waiting for a writer, their type
checked on the open file, so nothing can be swapped in between), at most MAX_BYTES long. Everything else,
a directory, FIFO, socket, device or symbolic link, an unreadable or oversized file, one that has lacked its
end for INCOMPLETE_AFTER seconds, and a request the worker cannot parse, is moved to the spool's rejected/
folder with a <name>.why file beside it, logged once as an error and counted by reason
(lotse_promises_spool_set_aside_total); the other files are taken as usual. docs/security.md says what the
admin does with them.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from pbx import contract as c
from routing.problems import LotseError

log = logging.getLogger("lotse.promises")

REJECTED: Final = "rejected"  # the spool's folder for files set aside
MAX_BYTES: Final = 64 * 1024  # a request is a few hundred bytes; anything this long is not one of Asterisk's
INCOMPLETE_AFTER: Final = 60.0  # seconds a file may lack its end marker (FILE() writes its line at once) before it is set aside
OPEN_FLAGS: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
REASONS: Final = ("not_a_regular_file", "unreadable", "too_large", "incomplete", "invalid")  # the metric's label values
KINDS: Final = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


class RefusedError(LotseError):
    """A spool file the worker does not take: ``reason`` (one of REASONS) and what is wrong, in words."""

    def __init__(self, reason: str, why: str) -> None:
        super().__init__(why)
        self.reason = reason
        self.why = why


def read(path: Path, now: float) -> str | None:
    """A complete spool file's text without its end marker; None while it is being written (or gone); RefusedError otherwise."""
    try:
        kind = KINDS.get(stat.S_IFMT(os.lstat(path).st_mode))
        if kind is not None:  # a FIFO or device is never opened at all
            raise RefusedError("not_a_regular_file", f"{kind}, not a regular file")
        fd = os.open(path, OPEN_FLAGS)
    except FileNotFoundError:
        return None  # taken or removed meanwhile
    except OSError as exc:  # ELOOP: a symbolic link swapped in after the look; EACCES: not lotse's to read
        raise _unreadable(exc) from None
    try:
        info = os.fstat(fd)
        kind = KINDS.get(stat.S_IFMT(info.st_mode))
        if kind is not None:
            raise RefusedError("not_a_regular_file", f"{kind}, not a regular file")
        if info.st_size > MAX_BYTES:
            raise RefusedError("too_large", f"{info.st_size} bytes, more than a spool file's {MAX_BYTES}")
        data = _read_all(fd)
    except OSError as exc:
        raise _unreadable(exc) from None
    finally:
        os.close(fd)
    text = data.decode("utf-8", errors="replace").strip()
    if text.endswith(c.SPOOL_END):
        return text.removesuffix(c.SPOOL_END)
    age = now - info.st_mtime
    if age < INCOMPLETE_AFTER:
        return None
    what = "empty" if not text else f"without its end '{c.SPOOL_END}'"
    raise RefusedError("incomplete", f"{what} for {age:.0f} s (Asterisk could not finish it: a full disk?)")


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, MAX_BYTES + 1):
        chunks.append(chunk)
        if sum(map(len, chunks)) > MAX_BYTES:  # grew after fstat
            raise RefusedError("too_large", f"more than a spool file's {MAX_BYTES} bytes")
    return b"".join(chunks)


def _unreadable(exc: OSError) -> RefusedError:
    if exc.errno == errno.ELOOP:
        return RefusedError("not_a_regular_file", "a symbolic link, not a regular file")
    return RefusedError("unreadable", f"cannot be read ({exc.strerror or exc})")


@dataclass
class Inbox:
    """One spool folder the worker takes files from; ``label`` names its files in the log ('request', 'result')."""

    spool: Path
    folder: str
    label: str
    tz: ZoneInfo
    set_aside: dict[str, int] = field(default_factory=dict)  # files set aside since start, by reason (for /metrics)
    _stuck: dict[str, str] = field(default_factory=dict)  # name -> reason, of files reported but not yet moved (a full disk)

    @property
    def rejected(self) -> Path:
        return self.spool / REJECTED

    def files(self, now: float) -> list[tuple[Path, str]]:
        """The folder's complete files and their text, by name; anything else is set aside on the way."""
        complete = []
        for path in sorted((self.spool / self.folder).iterdir()):
            try:
                text = read(path, now)
            except RefusedError as refused:
                self.refuse(path, refused, now)
                continue
            if text is not None:
                complete.append((path, text))
        return complete

    def refuse(self, path: Path, refused: RefusedError, now: float) -> None:
        """Move ``path`` to rejected/ with its reason; logged and counted once, even while it cannot be moved."""
        first = path.name not in self._stuck
        if first:
            self.set_aside[refused.reason] = self.set_aside.get(refused.reason, 0) + 1
            log.error("%s file %s set aside in %s: %s", self.label, path.name, self.rejected, refused.why)
        self._stuck[path.name] = refused.why
        try:
            self.rejected.mkdir(exist_ok=True)
            target = self._free(path.name)
            os.rename(path, target)  # a symbolic link is moved itself, not what it points to
        except FileNotFoundError:
            self._stuck.pop(path.name, None)  # gone meanwhile
            return
        except OSError as exc:  # ENOSPC, EACCES on the folder: left in place, tried again each round without a word
            if first:
                log.error("%s file %s cannot be moved to %s (%s): left in place and skipped", self.label, path.name, self.rejected, exc)
            return
        del self._stuck[path.name]
        when = datetime.fromtimestamp(now, self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")
        try:
            (target.parent / f"{target.name}.why").write_text(f"{when}: {self.label} file {path.name}: {refused.why}\n", encoding="utf-8")
        except OSError as exc:  # the reason is in the log too
            log.warning("reason for %s not written beside it (%s); it is in this log", target, exc)

    def _free(self, name: str) -> Path:
        """rejected/<name>, or <name>.1, .2, ... when a file of that name was set aside before."""
        target, n = self.rejected / name, 0
        while os.path.lexists(target) or os.path.lexists(f"{target}.why"):
            n += 1
            target = self.rejected / f"{name}.{n}"
        return target


def spool_free(spool: Path) -> int | None:
    """Bytes free for an unprivileged writer (Asterisk) on the spool's disk; None when the spool cannot be looked at."""
    try:
        info = os.statvfs(spool)
    except OSError:
        return None
    return info.f_bavail * info.f_frsize
