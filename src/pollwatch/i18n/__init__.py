"""Translations of every user-visible string: gettext catalogues read with Babel.

The catalogues are ``locale/{az,ru}/LC_MESSAGES/pollwatch.po``; English is the source language
(the msgids), so it needs no catalogue. The ``.po`` files are read at run time, on first use of a
language, and compiled in memory into a ``gettext`` translations object that is then cached:
there is no ``.mo`` build step to forget, an editable install and a wheel behave the same, and a
translator's edit shows on the next start. Reading both catalogues takes a few milliseconds.
Fuzzy entries are left out, as ``msgfmt`` does, so a guessed translation never reaches a user.

The language is always explicit (``gettext(message, lang)``): the service serves users in
different languages from one process and threads, so there is no global "current" language.
The report and its figures, which are built in one language at a time, may instead set it for
a block with ``use_language(lang)``; ``gettext(message)`` without ``lang`` and ``lazy_gettext``
read that setting (a context variable, so threads and asyncio tasks do not see each other's).

``N_`` (and ``N_plural`` for a singular/plural pair) only marks a string for extraction (module-level tables of labels), which are translated
where they are shown. ``scripts/i18n.py extract|update|check`` keeps the catalogues in step with
the code (``pollwatch.i18n.tooling``); ``tests/i18n`` fails when a string lacks a translation.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import gettext as _gettext
import io
import math
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from babel.core import Locale, negotiate_locale
from babel.dates import format_date as babel_format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import parse_pattern
from babel.support import LazyProxy
from jinja2 import BaseLoader, Environment, select_autoescape

__all__ = [
    "DEFAULT",
    "DOMAIN",
    "LANGS",
    "LOCALE_DIR",
    "N_",
    "N_plural",
    "Note",
    "all_languages",
    "format_date",
    "format_int",
    "format_number",
    "format_pct",
    "current_language",
    "gettext",
    "jinja_environment",
    "lazy_gettext",
    "negotiate",
    "ngettext",
    "normalise",
    "note",
    "note_plural",
    "parse_accept_language",
    "pgettext",
    "po_path",
    "translated",
    "translations",
    "use_language",
]

LANGS = ("en", "az", "ru")
DEFAULT = "en"
DOMAIN = "pollwatch"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("pollwatch_lang", default=DEFAULT)


def po_path(lang: str) -> Path:
    """The catalogue file of ``lang`` (``az`` or ``ru``)."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def normalise(lang: str | None) -> str:
    """``lang`` if it is one of :data:`LANGS`, else English (a user's stored language may be
    anything an old client wrote)."""
    return lang if lang in LANGS else DEFAULT


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The compiled catalogue of ``lang`` (English, or an unknown language: the identity)."""
    lang = normalise(lang)
    if lang == DEFAULT:
        return _gettext.NullTranslations()
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def current_language() -> str:
    """The language set by the innermost ``use_language`` block (English outside any)."""
    return _current.get()


@contextlib.contextmanager
def use_language(lang: str) -> Iterator[str]:
    """Within the block, ``gettext(message)`` and lazy strings translate into ``lang``."""
    token = _current.set(normalise(lang))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str, lang: str | None = None) -> str:
    """``message`` (an English msgid) in ``lang``, or in the current language when omitted;
    the English text when the catalogue has no (non-fuzzy) translation."""
    return translations(normalise(lang) if lang else _current.get()).gettext(message)


def pgettext(context: str, message: str, lang: str | None = None) -> str:
    """``message`` in ``lang`` as translated for ``context`` (msgctxt): the same English word
    may need two translations ("signals": a column of signals, a test that signals)."""
    return translations(normalise(lang) if lang else _current.get()).pgettext(context, message)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The plural form of a message for count ``n`` (Russian has three forms)."""
    return translations(normalise(lang) if lang else _current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark ``message`` for extraction only; it is translated where it is shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:  # noqa: N802
    """Mark a singular/plural pair for extraction (give it to ``ngettext`` where it is shown)."""
    return singular, plural


class Note(str):
    """A sentence written at analysis time with numbers in it, that can be said again in
    another language when it is shown.

    Its value as a ``str`` is the English sentence (``msgid.format(**params)``), so a result
    that stores it, ``results.json`` (``json.dumps`` writes the English), warnings and every
    existing reader see exactly the English they saw before; :meth:`translated` (or
    :func:`translated`) fills the catalogue's translation of ``msgid`` with the same values.
    ``params`` are the values as the English shows them (numbers formatted before they are
    passed in); a param that is itself a :class:`Note` is translated too. Make one with
    :func:`note` or :func:`note_plural` (the extractor reads those two calls).
    """

    msgid: str
    plural: str | None
    n: int | None
    params: dict[str, Any]

    def __new__(
        cls, msgid: str, plural: str | None = None, count: int | None = None, /, **params: Any
    ) -> Note:
        english = msgid if plural is None or count == 1 else plural
        self = super().__new__(cls, english.format(**params) if params else english)
        self.msgid, self.plural, self.n, self.params = msgid, plural, count, dict(params)
        return self

    def __reduce__(self) -> tuple[Any, ...]:  # pickled (worker processes) as its parts
        return (_rebuild_note, (type(self), self.msgid, self.plural, self.n, self.params))

    def say(self, lang: str | None = None) -> str:
        """The same as :meth:`translated` (the name ``pollwatch.i18n.text.say`` calls)."""
        return self.translated(lang)

    def translated(self, lang: str | None = None) -> str:
        """The sentence in ``lang`` (the current language when omitted)."""
        if self.plural is None:
            text = gettext(self.msgid, lang)
        else:
            assert self.n is not None
            text = ngettext(self.msgid, self.plural, self.n, lang)
        if not self.params:
            return text
        # a value that can say itself (a Note, a list of them joined) is said in turn
        fields = {
            k: v.say(lang) if callable(getattr(v, "say", None)) else v
            for k, v in self.params.items()
        }
        return text.format(**fields)


def _rebuild_note(
    cls: type[Note], msgid: str, plural: str | None, n: int | None, params: dict[str, Any]
) -> Note:
    return cls(msgid, plural, n, **params)


def note(msgid: str, /, **params: Any) -> Note:
    """A :class:`Note`: ``msgid`` (``{name}`` placeholders) filled with ``params``."""
    return Note(msgid, **params)


def note_plural(singular: str, plural: str, n: int, /, **params: Any) -> Note:
    """A :class:`Note` whose wording depends on the count ``n`` (also passed as ``{n}``
    unless ``params`` gives it another way)."""
    params.setdefault("n", n)
    return Note(singular, plural, n, **params)


def translated(text: Any, lang: str | None = None) -> Any:
    """``text`` in ``lang`` (default: the current language) for display: a :class:`Note` said
    again from its parts, a plain string as the catalogue has it (a fixed, ``N_``-marked
    sentence; a string the catalogue does not know comes back unchanged); anything else as is."""
    if isinstance(text, Note):
        return text.translated(lang)
    if isinstance(text, str) and text:  # gettext("") is the catalogue's header
        return gettext(text, lang)
    return text


def lazy_gettext(message: str) -> Any:
    """A string that translates itself into the current language each time it is used."""
    return LazyProxy(gettext, message, enable_cache=False)


def all_languages(message: str) -> dict[str, str]:
    """``message`` in every language, ``{"en": ..., "az": ..., "ru": ...}`` (for the JSON API
    and tables that hand every language to a client)."""
    return {lang: gettext(message, lang) for lang in LANGS}


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _apply(kind: str, x: float, digits: int, lang: str) -> str:
    """``x`` in ``lang``'s CLDR decimal or percent pattern with exactly ``digits`` decimals
    (ru: ``1 234 567``, ``12,34 %``; az: ``1.234.567``, ``12,34%``)."""
    locale = Locale.parse(lang)
    formats = locale.percent_formats if kind == "percent" else locale.decimal_formats
    pattern = parse_pattern(formats[None].pattern)
    pattern.frac_prec = (digits, digits)
    return pattern.apply(x, locale)


def format_int(x: float | None, lang: str | None = None) -> str:
    """A count rounded to a whole number with the language's grouping (English: ``1,234``)."""
    lang = normalise(lang) if lang else _current.get()
    if _missing(x):
        return gettext("n/a", lang)
    assert x is not None
    return f"{round(x):,}" if lang == DEFAULT else _apply("decimal", round(x), 0, lang)


def format_number(x: float | None, digits: int = 2, lang: str | None = None) -> str:
    """A number with ``digits`` decimals in the language's notation (decimal comma in az/ru)."""
    lang = normalise(lang) if lang else _current.get()
    if _missing(x):
        return gettext("n/a", lang)
    assert x is not None
    return f"{x:,.{digits}f}" if lang == DEFAULT else _apply("decimal", x, digits, lang)


def format_pct(x: float | None, digits: int = 2, lang: str | None = None) -> str:
    """A fraction as a percentage. English keeps the house style of ``results.fmt_pct``
    (``12.34 %``); az and ru follow CLDR (``12,34%``, ``12,34 %``)."""
    lang = normalise(lang) if lang else _current.get()
    if _missing(x):
        return gettext("n/a", lang)
    assert x is not None
    return f"{100 * x:.{digits}f} %" if lang == DEFAULT else _apply("percent", x, digits, lang)


def format_date(d: _dt.date, lang: str | None = None) -> str:
    """A date written out: ``7 February 2024`` in English (day month year, as the report has
    always written it), CLDR's long form in az and ru (``7 fevral 2024``, ``7 февраля 2024 г.``)."""
    lang = normalise(lang) if lang else _current.get()
    if lang == DEFAULT:
        return f"{d.day} {d.strftime('%B')} {d.year}"
    return babel_format_date(d, format="long", locale=lang)


def parse_accept_language(header: str | None) -> list[str]:
    """The language tags of an HTTP ``Accept-Language`` header, most preferred first
    (RFC 9110 §12.5.4: ``q`` weights, default 1; ``q=0`` means "not acceptable"; ties keep the
    header's order; ``*`` is dropped, it names no language). Malformed parts are skipped."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, *params = (p.strip() for p in part.split(";"))
        if not tag or tag == "*" or len(tag) > 64:
            continue
        q = 1.0
        for p in params:
            key, _, value = p.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if 0 < q <= 1:
            ranked.append((-q, i, tag))
    return [tag for _, _, tag in sorted(ranked)]


def negotiate(accept_language: str | None, available: tuple[str, ...] = LANGS) -> str:
    """The best of ``available`` for an ``Accept-Language`` header, English when none fits.

    Region and script subtags fall back to the language (``ru-RU`` → ru, ``az-Latn-AZ`` → az;
    Babel's ``negotiate_locale``), each tag in preference order, so ``de, ru;q=0.8`` gives ru.
    """
    preferred = parse_accept_language(accept_language)
    found = negotiate_locale(preferred, list(available), sep="-") if preferred else None
    return normalise(found.lower() if found else None)


def jinja_environment(loader: BaseLoader, lang: str, **options: Any) -> Environment:
    """A Jinja2 environment for one language with the ``i18n`` extension installed
    (new-style gettext: ``{{ _("%(n)s stations", n=3) }}`` escapes only the arguments).

    One environment per language keeps rendering thread-safe: ``install_gettext_translations``
    binds the catalogue to the environment, not to a render call. Callers cache them.
    """
    options.setdefault("autoescape", select_autoescape(["j2", "html"]))
    env = Environment(loader=loader, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_translations(translations(normalise(lang)), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = normalise(lang)
    return env
