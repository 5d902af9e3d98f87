"""What the IVR asks of Asterisk: the four AGI commands the call flow and the outcome steps yield.

The adapters (ivr.agi for both AGI servers) turn them into AGI lines and the replies into results.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from routing.model import Prompt


@dataclass(frozen=True, slots=True)
class Stream:
    """Play a file; with escape keys, a key press stops it and is the result."""

    file: str
    escape: str = ""


@dataclass(frozen=True, slots=True)
class WaitDigit:
    timeout_ms: int


@dataclass(frozen=True, slots=True)
class SetVariable:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class GetDigits:
    """Play a file and collect up to ``max_digits`` keys, ended by # or the timeout; the result is the digits."""

    file: str
    timeout_ms: int
    max_digits: int


Command = Stream | WaitDigit | SetVariable | GetDigits
Steps = Generator[Command, str | None, "Ending"]  # an outcome's IVR step: commands out, results in


@dataclass(frozen=True, slots=True)
class Ending:
    """What an outcome's IVR step leaves: contract variables to set, or a menu the caller goes back to."""

    values: dict[str, str]
    back_to: str | None = None  # a menu id: the call goes on there, no decision is handed to the dialplan


def path(prompts: str, prompt: Prompt | str) -> str:
    """A prompt's file as Asterisk plays it: below the prompts folder (as Asterisk sees it), without extension."""
    return f"{prompts.rstrip('/')}/{prompt if isinstance(prompt, str) else prompt.file}"
