"""Telephone numbers: normalisation to E.164 and longest-prefix matching.

Config numbers are written by admins in any common German notation
(``+49 281 203-0``, ``0281/203-0``, ``02812030``); caller IDs arrive from trunks
as ``0281...``, ``+49281...``, ``0049281...`` or ``49281...``. Everything is
turned into one key form: ``+<country><national>`` for full numbers, bare digits
for short codes such as ``115``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_SEPARATORS = str.maketrans("", "", " /-().\t")
_HIDDEN = frozenset({"", "anonymous", "unknown", "restricted", "private", "unavailable", "withheld"})
SHORT_CODE_MAX = 6  # 115, 110, internal extensions: never E.164


class NumberError(ValueError):
    """A number that cannot be read; the message says which character or part is wrong."""


def _digits(text: str) -> str:
    compact = text.strip().translate(_SEPARATORS)
    body = compact[1:] if compact.startswith("+") else compact
    if not body:
        raise NumberError(f"'{text}' has no digits")
    if not (body.isascii() and body.isdigit()):
        wrong = next(char for char in body if not (char.isascii() and char.isdigit()))
        raise NumberError(f"'{text}' contains '{wrong}', which is not a digit")
    return compact


def normalise(text: str, country_code: str = "49") -> str:
    """Return the key form of a number written by an admin.

    >>> normalise("0281/203-0")
    '+492812030'
    >>> normalise("115")
    '115'
    """
    compact = _digits(text)
    if compact.startswith("+"):
        return compact
    if compact.startswith("00"):
        return "+" + compact[2:]
    if compact.startswith("0"):
        return "+" + country_code + compact[1:]
    if len(compact) <= SHORT_CODE_MAX:
        return compact
    raise NumberError(f"'{text}' is neither a full number (start it with 0, 00 or +) nor a short code of at most {SHORT_CODE_MAX} digits")


def normalise_prefix(text: str, country_code: str = "49") -> str:
    """Return the key form of an area-code prefix (``0281`` -> ``+49281``)."""
    compact = _digits(text)
    if compact.startswith("+"):
        return compact
    if compact.startswith("00"):
        return "+" + compact[2:]
    if compact.startswith("0"):
        return "+" + country_code + compact[1:]
    raise NumberError(f"prefix '{text}' must start with 0 (area code), 00 or + (country code)")


def is_hidden(caller: str | None) -> bool:
    """True when the caller ID carries no number (withheld or missing)."""
    return caller is None or caller.strip().lower() in _HIDDEN


def caller_key(caller: str | None, country_code: str = "49") -> str | None:
    """The key form of a caller ID as trunks deliver it, or None when unusable.

    Unlike :func:`normalise` this never raises: a caller ID is untrusted input
    and an unreadable one routes like a hidden number.
    """
    if is_hidden(caller):
        return None
    assert caller is not None
    try:
        compact = _digits(caller)
    except NumberError:
        return None
    if compact.startswith("+"):
        return compact
    if compact.startswith("00"):
        return "+" + compact[2:]
    if compact.startswith("0"):
        return "+" + country_code + compact[1:]
    if compact.startswith(country_code) and len(compact) >= len(country_code) + 7:
        return "+" + compact  # international format without the plus sign; local numbers are shorter
    return compact


def dialled_keys(dialled: str, country_code: str = "49") -> tuple[str, ...]:
    """Candidate keys for a dialled number (DNID), most specific first.

    Trunks deliver the called number as ``02812030``, ``+492812030``,
    ``492812030`` or just ``2812030``; each form is tried against the table.
    """
    try:
        compact = _digits(dialled)
    except NumberError:
        return ()
    if compact.startswith(("+", "0")):
        return (normalise(compact, country_code),)
    keys = [compact]
    if compact.startswith(country_code) and len(compact) > SHORT_CODE_MAX:
        keys.append("+" + compact)
    # The national form without its leading 0: any length beyond a short code; a short one too unless it
    # starts with 1 (110, 115, 116xxx, 118xx are service codes, and no area code starts with 01 but mobiles).
    if len(compact) > SHORT_CODE_MAX or (len(compact) >= 4 and not compact.startswith("1")):
        keys.append("+" + country_code + compact)
    return tuple(keys)


@dataclass(frozen=True, slots=True)
class PrefixTable(Generic[T]):
    """Longest-prefix lookup over key-form prefixes."""

    entries: Mapping[str, T]
    lengths: tuple[int, ...]  # distinct prefix lengths, longest first

    @classmethod
    def build(cls, entries: Mapping[str, T]) -> PrefixTable[T]:
        lengths = tuple(sorted({len(p) for p in entries}, reverse=True))
        return cls(dict(entries), lengths)

    def shorter(self, prefix: str) -> list[str]:
        """The table's prefixes that are shorter prefixes of ``prefix`` (for the trace: what the longest match beat)."""
        return [prefix[:n] for n in self.lengths if n < len(prefix) and prefix[:n] in self.entries]

    def match(self, key: str) -> tuple[str, T] | None:
        """The longest prefix of ``key`` in the table with its value."""
        entries = self.entries
        size = len(key)
        for length in self.lengths:
            if length <= size:
                value = entries.get(key[:length])
                if value is not None:
                    return key[:length], value
        return None
