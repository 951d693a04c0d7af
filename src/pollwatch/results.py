"""Shared pieces of every result object: intervals, summaries, JSON conversion.

Every method returns a frozen dataclass that inherits :class:`ResultMixin`. It then has
``to_dict()`` (JSON-ready), ``summary()`` (a :class:`Summary` with ``as_text``/``as_html``)
and ``_repr_html_`` for notebooks. A result class provides ``_summary_rows()`` and
``_summary_text()``; the report builder consumes ``Summary``, never private fields.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np


class ConfidenceInterval(NamedTuple):
    """An interval ``(low, high)`` at the level stated by whoever made it."""

    low: float
    high: float


def jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, dataclasses, tuples and NaN into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, ConfidenceInterval):
        return [jsonable(value.low), jsonable(value.high)]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


@dataclasses.dataclass(frozen=True)
class Summary:
    """A human-readable summary: a title, a plain-language paragraph, key rows and notes."""

    title: str
    text: str
    rows: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = ()

    def as_text(self) -> str:
        width = max((len(k) for k, _ in self.rows), default=0)
        lines = [self.title, "=" * len(self.title), self.text, ""]
        lines += [f"{k.ljust(width)}  {v}" for k, v in self.rows]
        if self.notes:
            lines += [""] + [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_html(self) -> str:
        esc = html.escape
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in self.rows)
        notes = "".join(f"<li>{esc(n)}</li>" for n in self.notes)
        return (
            f"<div class='pw-summary'><h4>{esc(self.title)}</h4><p>{esc(self.text)}</p>"
            f"<table>{rows}</table>"
            + (f"<ul class='notes'>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def to_dict(self) -> dict:
        return {
            "title": self.title,
            "text": self.text,
            "rows": [list(r) for r in self.rows],
            "notes": list(self.notes),
        }

    def _repr_html_(self) -> str:
        return self.as_html()

    def __str__(self) -> str:
        return self.as_text()


class ResultMixin:
    """Mixin for frozen result dataclasses. Subclasses implement ``summary()``.

    Fields whose name starts with ``_`` or that are listed in ``_dict_exclude`` are left
    out of ``to_dict()`` (large per-station arrays belong in the stations table).
    """

    _dict_exclude: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name.startswith("_") or f.name in self._dict_exclude:
                continue
            out[f.name] = jsonable(getattr(self, f.name))
        return out

    def summary(self) -> Summary:  # pragma: no cover - every result overrides it
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def __str__(self) -> str:
        return self.summary().as_text()


def fmt_pct(x: float, digits: int = 2) -> str:
    """Format a fraction as a percentage, NaN as 'n/a'."""
    return (
        "n/a"
        if x is None or (isinstance(x, float) and math.isnan(x))
        else f"{100 * x:.{digits}f} %"
    )


def fmt_int(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{round(x):,}"
