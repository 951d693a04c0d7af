"""Sentences stored in English and shown in the display language.

A result computes some sentences once, when it is built (a quick count's call "A ahead,
verified", a verdict's "Too early to judge: …", a service error "Station not found") and keeps
them as plain English strings: they go to ``to_dict()``, JSON and logs, which scripts read. A :class:`Msg` is such a string (a ``str`` subclass, equal to its English text
and serialised as it) that also remembers its catalogue msgid and the already formatted
numbers and names it was filled with, so ``say(x)`` can write the same sentence again in the
current language (``pollwatch.i18n.use_language``) when a ``summary()`` or a page shows it.
Plain strings (station ids, candidate names) pass through ``say`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pollwatch.i18n import gettext, ngettext

__all__ = ["Join", "Msg", "cap", "msg", "msg_n", "say"]


def _english(value: Any) -> str:
    return str.__str__(value) if isinstance(value, str) else str(value)


class Msg(str):
    """An English sentence (its ``str`` value) that can be said again in another language.

    ``msgid``: the catalogue message (a ``{name}`` format string), or a (singular, plural) pair
    with the count ``n``; ``fields``: the values put in it, numbers already formatted as the
    English shows them (a field may itself be a ``Msg`` or a :class:`Join`, said in turn).
    """

    msgid: str | tuple[str, str]
    n: int | None
    fields: dict[str, Any]

    def __new__(cls, msgid: str | tuple[str, str], n: int | None = None, /, **fields: Any) -> Msg:
        template = msgid if isinstance(msgid, str) else msgid[0 if n == 1 else 1]
        text = _format(template, {k: _english(v) for k, v in fields.items()})
        self = super().__new__(cls, text)
        self.msgid, self.n, self.fields = msgid, n, dict(fields)
        return self

    def __reduce__(self) -> tuple:  # pickling (process pools) keeps the msgid and fields
        return (_rebuild, (type(self), self.msgid, self.n, self.fields))

    def say(self, lang: str | None = None) -> str:
        """The sentence in ``lang`` (default: the current language)."""
        if isinstance(self.msgid, str):
            template = gettext(self.msgid, lang)
        else:
            assert self.n is not None
            template = ngettext(self.msgid[0], self.msgid[1], self.n, lang)
        return _format(template, {k: say(v, lang) for k, v in self.fields.items()})

    @property
    def params(self) -> dict[str, Any]:
        """The values put in the sentence (``fields``)."""
        return self.fields


def _format(template: str, fields: dict[str, Any]) -> str:
    # no fields: the text as it is (a literal brace in a message without fields needs no escaping)
    return template.format(**fields) if fields else template


def _rebuild(
    cls: type[Msg], msgid: str | tuple[str, str], n: int | None, fields: dict[str, Any]
) -> Msg:
    return cls(msgid, n, **fields)


class Join(str):
    """Parts (each a ``Msg`` or plain text) joined by a separator (plain or a ``Msg``, such as
    " and "), said part by part."""

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


def msg(msgid: str, /, **fields: Any) -> Msg:
    """``Msg(msgid, **fields)``; mark the msgid with ``N_`` where it is written."""
    return Msg(msgid, None, **fields)


def msg_n(singular: str, plural: str, n: int, /, **fields: Any) -> Msg:
    """A sentence with a singular and a plural form chosen by ``n`` (``N_plural``-marked)."""
    return Msg((singular, plural), n, **fields)


def say(value: Any, lang: str | None = None) -> str:
    """``value`` in ``lang`` (default: the current language) when it is a ``Msg``/``Join`` (or
    any other text with a ``say(lang)`` method, such as a service flag); any other text as it
    is (names, codes, an English string from elsewhere)."""
    if isinstance(value, (Msg, Join)) or callable(getattr(value, "say", None)):
        return value.say(lang)
    return value if isinstance(value, str) else str(value)


def cap(s: str) -> str:
    """``s`` with its first letter in upper case (a call that starts a sentence)."""
    return s[:1].upper() + s[1:]
