"""Checklists defined in YAML (opening, voting, counting) with typed questions and SMS codes.

Question types: ``yesno`` (stored as bool), ``number`` (int, optional ``min``/``max`` or
``max_ref: registered``), ``decimal`` (float, optional ``min``/``max``), ``choice`` (one of
``options``), ``text``, ``time`` (``HH:MM``), ``date`` (``YYYY-MM-DD``).
``parse_value`` turns web, API or SMS input into the stored value or raises ``AnswerError``
(a ``ValueError``) with a short reason that ``reason(lang)`` translates.

Texts: a form gives its title, question texts and option labels in English (``title: "Voting"``,
``options: {given: "Given", ...}``) and the shipped forms' strings are translated in the
catalogues (``pollwatch.i18n``); a form may instead give a text per language
(``{en: ..., az: ..., ru: ...}``, as an XLSForm's ``label::az`` columns do), which wins. After
loading, every text is a ``{lang: text}`` dict over all of ``LANGS``.

The checklists are read from one directory: ``POLLWATCH_FORMS_DIR`` (``Settings.forms_dir``,
set by ``create_app`` through :func:`use_directory`), else the package's own (this directory).
A configured directory replaces the shipped checklists; copy them in to keep them. XLSForms
become checklists of this format with ``pollwatch forms import`` (``service.xlsform``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pollwatch.i18n import LANGS, N_, gettext

TYPES = ("yesno", "number", "decimal", "choice", "text", "time", "date")
_YES = {"y", "yes", "1", "true", "da", "д", "да", "bəli", "beli", "he", "hə"}
_NO = {"n", "no", "0", "false", "net", "н", "нет", "xeyr", "yox"}
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


class AnswerError(ValueError):
    """An invalid answer: ``str()`` is the English reason, ``reason(lang)`` the translated one."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message, self.params = message, params
        super().__init__(message.format(**params))

    def reason(self, lang: str) -> str:
        return gettext(self.message, lang).format(**self.params)


def texts(value: Any) -> dict[str, str]:
    """A form text in every language: a per-language dict as given (English fills a gap, then
    the catalogue), or an English string translated by the catalogue."""
    given = value if isinstance(value, dict) else {"en": value}
    en = str(given.get("en") or next(iter(given.values()), ""))
    # gettext("") is the catalogue's header, never a text
    return {lang: str(given.get(lang) or (gettext(en, lang) if en else "")) for lang in LANGS}


@dataclass(frozen=True)
class Question:
    code: str
    id: str
    type: str
    text: dict[str, str]
    required: bool = False
    min: float | None = None
    max: float | None = None
    max_ref: str | None = None
    options: tuple[str, ...] = ()
    option_text: dict[str, dict[str, str]] = field(default_factory=dict)  # code -> {lang: label}

    def parse_value(self, raw: Any) -> Any:
        """The stored value for ``raw``; raises ValueError naming what was expected."""
        if self.type == "yesno":
            if isinstance(raw, bool):
                return raw
            s = str(raw).strip().lower()
            if s in _YES:
                return True
            if s in _NO:
                return False
            raise AnswerError(N_("expected yes or no"))
        if self.type == "number":
            if isinstance(raw, bool):
                raise AnswerError(N_("expected a whole number"))
            try:
                v = int(str(raw).strip()) if not isinstance(raw, int) else raw
            except ValueError:
                raise AnswerError(N_("expected a whole number")) from None
            if self.min is not None and v < self.min:
                raise AnswerError(N_("expected a number of at least {min}"), min=self.min)
            if self.max is not None and v > self.max:
                raise AnswerError(N_("expected a number of at most {max}"), max=self.max)
            return v
        if self.type == "decimal":
            if isinstance(raw, bool):
                raise AnswerError(N_("expected a number"))
            try:
                d = float(str(raw).strip().replace(",", "."))  # a decimal comma from a phone
            except ValueError:
                raise AnswerError(N_("expected a number")) from None
            if d != d or d in (float("inf"), float("-inf")):
                raise AnswerError(N_("expected a number"))
            if self.min is not None and d < self.min:
                raise AnswerError(N_("expected a number of at least {min}"), min=self.min)
            if self.max is not None and d > self.max:
                raise AnswerError(N_("expected a number of at most {max}"), max=self.max)
            return d
        if self.type == "date":
            try:
                # ISO 8601, also the basic YYYYMMDD: an SMS value is digits only
                return dt.date.fromisoformat(str(raw).strip()).isoformat()
            except ValueError:
                raise AnswerError(N_("expected a date as YYYY-MM-DD")) from None
        if self.type == "choice":
            s = str(raw).strip().lower()
            if s.isdigit() and 1 <= int(s) <= len(self.options):
                return self.options[int(s) - 1]  # SMS answers give the option number
            if s not in self.options:
                raise AnswerError(N_("expected one of {options}"), options=", ".join(self.options))
            return s
        if self.type == "time":
            match = _TIME.match(str(raw).strip())
            if not match:
                raise AnswerError(N_("expected a time as HH:MM"))
            return f"{int(match[1]):02d}:{match[2]}"
        text = str(raw)
        if len(text) > 2000:
            raise AnswerError(N_("expected at most {n} characters"), n=2000)
        return text


@dataclass(frozen=True)
class Form:
    code: str
    name: str
    title: dict[str, str]
    questions: tuple[Question, ...] = field(default_factory=tuple)

    def question(self, key: str) -> Question | None:
        key_u = key.upper()
        for q in self.questions:
            if q.id == key or q.code == key_u:
                return q
        return None

    def missing(self, answers: dict) -> list[str]:
        return [q.id for q in self.questions if q.required and q.id not in answers]

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "title": self.title,
            "questions": [q.__dict__ | {"options": list(q.options)} for q in self.questions],
        }


PACKAGE_DIR = Path(__file__).parent
_directory: Path | None = None


def directory() -> Path:
    """Where the checklists are read from: :func:`use_directory`, else ``POLLWATCH_FORMS_DIR``,
    else the package's directory."""
    if _directory is not None:
        return _directory
    env = os.environ.get("POLLWATCH_FORMS_DIR")
    return Path(env) if env else PACKAGE_DIR


def use_directory(path: Path | str | None) -> None:
    """Read checklists from ``path`` from now on (``None``: back to the environment or the
    package) and forget the ones already loaded."""
    global _directory
    _directory = Path(path) if path is not None else None
    forms.cache_clear()


def load(path: Path) -> Form:
    """One checklist file; ``ValueError`` naming the file and what is wrong."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    missing = [
        k
        for k in ("code", "name", "title", "questions")
        if not isinstance(doc, dict) or k not in doc
    ]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    qs = []
    for q in doc["questions"]:
        if q["type"] not in TYPES:
            raise ValueError(
                f"{path.name}: question {q['id']!r} has type {q['type']!r}; allowed: {TYPES}"
            )
        options = q.get("options", ())
        labels = options if isinstance(options, dict) else {o: o for o in options}
        try:
            qs.append(
                Question(
                    **{k: v for k, v in q.items() if k not in ("text", "options")},
                    text=texts(q["text"]),
                    options=tuple(labels),
                    option_text={str(o): texts(label) for o, label in labels.items()},
                )
            )
        except (TypeError, KeyError) as exc:
            raise ValueError(f"{path.name}: question {q.get('id')!r}: {exc}") from None
    title = texts(doc["title"])
    return Form(code=doc["code"].upper(), name=doc["name"], title=title, questions=tuple(qs))


@cache
def forms() -> dict[str, Form]:
    """Every checklist of :func:`directory` by name (shipped: ``opening``, ``voting``,
    ``counting``); ``ValueError`` if the directory has none or two share a name or code."""
    where = directory()
    loaded = [load(p) for p in sorted(where.glob("*.yaml"))]
    if not loaded:
        raise ValueError(f"{where}: no checklist (*.yaml) in the forms directory")
    for attr in ("name", "code"):
        seen: dict[str, str] = {}
        for f in loaded:
            key = getattr(f, attr)
            if key in seen:
                raise ValueError(
                    f"{where}: checklists {seen[key]!r} and {f.name!r} share the {attr} {key!r}"
                )
            seen[key] = f.name
    return {f.name: f for f in loaded}


def by_code(code: str) -> Form | None:
    code = code.upper()
    return next((f for f in forms().values() if f.code == code), None)
