"""Logging helpers: rate-limited warnings, and reasons that are never empty.

A fault that repeats for every call is logged once, then summarised. Pure apart from the
logger it is handed: the clock is passed in, so tests decide the time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass


def reason(exc: BaseException) -> str:
    """An exception as a log reason that is never empty (TimeoutError() has no message)."""
    return str(exc) or type(exc).__name__


@dataclass
class Throttle:
    """Log the first occurrence at once, then at most one line per ``every`` seconds with the count in between."""

    log: logging.Logger
    every: float = 60.0
    _last: float | None = None
    _suppressed: int = 0
    total: int = 0

    def warning(self, now: float, message: str, *args: object) -> bool:
        """Log ``message % args`` unless one was logged less than ``every`` seconds ago; returns whether it was."""
        self.total += 1
        if self._last is not None and now - self._last < self.every:
            self._suppressed += 1
            return False
        if self._suppressed:
            message += " (%d more like it in the last %.0f s)"
            args = (*args, self._suppressed, now - self._last if self._last is not None else 0.0)
        self.log.warning(message, *args)
        self._last, self._suppressed = now, 0
        return True
