"""Sentences stored in English and shown in the display language.

A result computes some sentences once, when it is built (a quick count's call "A ahead,
verified", a verdict's "Too early to judge: …", a service error "Station not found") and keeps
them as plain English strings: they go to ``to_dict()``, JSON and logs, which scripts read.
Such a sentence is a :class:`pollwatch.i18n.Note` (``note``/``note_plural``): a ``str`` equal
to its English text that remembers its msgid and the already formatted values, so ``say(x)``
can write it again in the current language (``pollwatch.i18n.use_language``) when a
``summary()`` or a page shows it. :class:`Join` strings such sentences together. Plain strings
(station ids, candidate names) pass through ``say`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pollwatch.i18n import Note

__all__ = ["Join", "cap", "say"]


def _english(value: Any) -> str:
    return str.__str__(value) if isinstance(value, str) else str(value)


class Join(str):
    """Parts (each a ``Note`` or plain text) joined by a separator (plain or a ``Note``, such
    as " and "), said part by part."""

    parts: tuple[Any, ...]
    sep: str

    def __new__(cls, sep: str, parts: Iterable[Any]) -> Join:
        parts = tuple(parts)
        self = super().__new__(cls, sep.join(_english(p) for p in parts))
        self.parts, self.sep = parts, sep
        return self

    def __reduce__(self) -> tuple:
        return (Join, (self.sep, self.parts))

    def say(self, lang: str | None = None) -> str:
        return say(self.sep, lang).join(say(p, lang) for p in self.parts)


def say(value: Any, lang: str | None = None) -> str:
    """``value`` in ``lang`` (default: the current language) when it is a ``Note``/``Join`` (or
    any other text with a ``say(lang)`` method, such as a service flag); any other text as it
    is (names, codes, an English string from elsewhere)."""
    if isinstance(value, (Note, Join)) or callable(getattr(value, "say", None)):
        return value.say(lang)
    return value if isinstance(value, str) else str(value)


def cap(s: str) -> str:
    """``s`` with its first letter in upper case (a call that starts a sentence)."""
    return s[:1].upper() + s[1:]
