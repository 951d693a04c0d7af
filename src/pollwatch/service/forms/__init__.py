"""Checklists defined in YAML (opening, voting, counting) with typed questions and SMS codes.

Question types: ``yesno`` (stored as bool), ``number`` (int, optional ``min``/``max`` or
``max_ref: registered``), ``choice`` (one of ``options``), ``text``, ``time`` (``HH:MM``).
``parse_value`` turns web, API or SMS input into the stored value or raises ``ValueError``
with a short reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TYPES = ("yesno", "number", "choice", "text", "time")
_YES = {"y", "yes", "1", "true", "da", "д", "да", "bəli", "beli", "he", "hə"}
_NO = {"n", "no", "0", "false", "net", "н", "нет", "xeyr", "yox"}
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


@dataclass(frozen=True)
class Question:
    code: str
    id: str
    type: str
    text: dict[str, str]
    required: bool = False
    min: int | None = None
    max: int | None = None
    max_ref: str | None = None
    options: tuple[str, ...] = ()

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
            raise ValueError("expected yes or no")
        if self.type == "number":
            if isinstance(raw, bool):
                raise ValueError("expected a whole number")
            try:
                v = int(str(raw).strip()) if not isinstance(raw, int) else raw
            except ValueError:
                raise ValueError("expected a whole number") from None
            if self.min is not None and v < self.min:
                raise ValueError(f"expected a number of at least {self.min}")
            if self.max is not None and v > self.max:
                raise ValueError(f"expected a number of at most {self.max}")
            return v
        if self.type == "choice":
            s = str(raw).strip().lower()
            if s.isdigit() and 1 <= int(s) <= len(self.options):
                return self.options[int(s) - 1]  # SMS answers give the option number
            if s not in self.options:
                raise ValueError("expected one of " + ", ".join(self.options))
            return s
        if self.type == "time":
            match = _TIME.match(str(raw).strip())
            if not match:
                raise ValueError("expected a time as HH:MM")
            return f"{int(match[1]):02d}:{match[2]}"
        text = str(raw)
        if len(text) > 2000:
            raise ValueError("expected at most 2000 characters")
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


def _load(path: Path) -> Form:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    qs = []
    for q in doc["questions"]:
        if q["type"] not in TYPES:
            raise ValueError(
                f"{path.name}: question {q['id']!r} has type {q['type']!r}; allowed: {TYPES}"
            )
        qs.append(Question(**{**q, "options": tuple(q.get("options", ()))}))
    return Form(code=doc["code"].upper(), name=doc["name"], title=doc["title"], questions=tuple(qs))


@cache
def forms() -> dict[str, Form]:
    """Every shipped checklist by name (``opening``, ``voting``, ``counting``)."""
    loaded = [_load(p) for p in sorted(Path(__file__).parent.glob("*.yaml"))]
    return {f.name: f for f in loaded}


def by_code(code: str) -> Form | None:
    code = code.upper()
    return next((f for f in forms().values() if f.code == code), None)
