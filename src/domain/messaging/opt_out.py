"""Customers stop and restart messages with a keyword; the words are configurable per installation."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum

DEFAULT_STOP_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "OPTOUT",
        "OPT OUT",
        "OPT-OUT",
        "PARAR",
        "ALTO",
    }
)
DEFAULT_START_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE", "OPTIN", "OPT IN", "OPT-IN"})


def _trim(text: str) -> str:
    """Without the spaces and punctuation around it ("¡ Stop. !" -> "Stop"); inner characters stay."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or unicodedata.category(text[start]).startswith("P")):
        start += 1
    while end > start and (text[end - 1].isspace() or unicodedata.category(text[end - 1]).startswith("P")):
        end -= 1
    return text[start:end]


class OptOutChange(Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


@dataclass(frozen=True)
class OptOutKeywords:
    stop: frozenset[str] = DEFAULT_STOP_WORDS
    start: frozenset[str] = DEFAULT_START_WORDS

    def change_for(self, text: str | None) -> OptOutChange | None:
        """A message that is only a keyword (any case, surrounding spaces and punctuation ignored)."""
        if not text:
            return None
        word = " ".join(_trim(text).upper().split())
        if word in self.stop:
            return OptOutChange.OPT_OUT
        if word in self.start:
            return OptOutChange.OPT_IN
        return None

    @classmethod
    def from_setting(cls, stop: str | None, start: str | None) -> OptOutKeywords:
        """Comma-separated lists, as OPT_OUT_KEYWORDS / OPT_IN_KEYWORDS carry them."""

        def words(value: str | None, default: frozenset[str]) -> frozenset[str]:
            if not value:
                return default
            return frozenset(" ".join(w.strip().upper().split()) for w in value.split(",") if w.strip())

        return cls(stop=words(stop, DEFAULT_STOP_WORDS), start=words(start, DEFAULT_START_WORDS))
