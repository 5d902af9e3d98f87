"""Problems found in a config, with the place they were found and a likely fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

Path = tuple[str | int, ...]


class LotseError(Exception):
    """Root of lotse's exceptions."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Location:
    file: str
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Problem:
    severity: Severity
    location: Location | None
    path: Path
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        key = f"{dotted(self.path)}: " if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.severity.value}: {key}{self.message}{hint}"


class ConfigError(LotseError):
    """A config that cannot be used; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.severity is Severity.ERROR]
        lines = "\n".join(str(p) for p in errors)
        super().__init__(f"{len(errors)} error(s) in the config:\n{lines}")


def dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ``did you mean 'x'?`` hint, or a list of the valid names when few."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if not options:
        return "none are defined"
    if len(options) <= 8:
        return "valid: " + ", ".join(options)
    return f"{len(options)} are defined, e.g. " + ", ".join(options[:5])
