"""Shared pieces of every result object: intervals, summaries, JSON conversion, and the
station-signal contract.

Every method returns a frozen dataclass that inherits :class:`ResultMixin`. It then has
``to_dict()`` (JSON-ready), ``summary()`` (a :class:`Summary` with ``as_text``/``as_html``)
and ``_repr_html_`` for notebooks. A result class provides ``_summary_rows()`` and
``_summary_text()``; the report builder consumes ``Summary``, never private fields.

A forensic method's result also satisfies :class:`MethodResult`: ``station_signals(election)``
(its per-station flags and scores as :class:`StationSignal`, aligned to the election's rows),
``to_json()`` (its entry in ``results.json``) and ``parameters()`` (the choices it was run
with). The station scores, fusion and ``results.json`` read a result through these three only.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

import numpy as np

#: the version of ``results.json``'s layout, written into every file as ``schema_version``; the
#: JSON Schema (draft 2020-12) is ``pollwatch/report/schema/results.schema.json``. MAJOR.MINOR.PATCH:
#: a new key raises MINOR, a key removed, renamed or changed in meaning raises MAJOR.
RESULTS_SCHEMA_VERSION = "1.1.0"


class ConfidenceInterval(NamedTuple):
    """An interval ``(low, high)`` at the level stated by whoever made it."""

    low: float
    high: float


def jsonable(value: Any, *, keep_nan: bool = False) -> Any:
    """Convert numpy scalars/arrays, dataclasses, tuples and NaN into JSON-ready values.

    NaN and infinities become None, unless ``keep_nan`` (then they stay floats, which
    ``json.dumps`` writes as ``NaN``/``Infinity`` and readers of the in-memory document can
    still test with ``math.isnan``).
    """
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return value.to_dict()
        return {
            f.name: jsonable(getattr(value, f.name), keep_nan=keep_nan)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, ConfidenceInterval):
        return [jsonable(value.low, keep_nan=keep_nan), jsonable(value.high, keep_nan=keep_nan)]
    if isinstance(value, np.ndarray):
        return [jsonable(v, keep_nan=keep_nan) for v in value.tolist()]
    if isinstance(value, np.generic):
        return jsonable(value.item(), keep_nan=keep_nan)
    if isinstance(value, float):
        return None if not keep_nan and (math.isnan(value) or math.isinf(value)) else value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, keep_nan=keep_nan) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, keep_nan=keep_nan) for v in value]
    return value


# -- the station-signal contract ------------------------------------------------------------
#: what a signal's values are: ``flag`` a boolean per station (False where the method did not
#: look at the station), ``score`` a float per station (NaN where it did not)
SignalKind = Literal["flag", "score"]
#: units a ``score`` may be in: ``probability`` a fraction in [0, 1]; ``votes`` a count of
#: votes (may be negative); ``fraction`` any other share in [0, 1]. A ``flag`` has unit ``flag``.
SCORE_UNITS = ("probability", "votes", "fraction")


@dataclasses.dataclass(frozen=True)
class StationSignal:
    """One per-station quantity a method reports, aligned to the election's rows.

    ``values[i]`` belongs to row ``i`` of ``Election.table`` (every station, excluded ones
    included). ``kind``: ``"flag"`` (bool array) or ``"score"`` (float array, NaN where not
    computed); ``unit``: ``"flag"`` for a flag, one of :data:`SCORE_UNITS` for a score (shares
    and probabilities as fractions in [0, 1], never percent). ``description`` says what fires
    or what the number is, in one sentence for a reader of the stations table.
    """

    name: str
    values: np.ndarray = dataclasses.field(repr=False)
    kind: SignalKind
    unit: str
    description: str

    def __post_init__(self) -> None:
        if self.kind == "flag":
            if self.unit != "flag":
                raise ValueError(f"signal {self.name!r}: a flag has unit 'flag', not {self.unit!r}")
            values = np.asarray(self.values, dtype=bool)
        elif self.kind == "score":
            if self.unit not in SCORE_UNITS:
                raise ValueError(
                    f"signal {self.name!r}: unit ({self.unit!r}) not recognised; must be one of "
                    f"{', '.join(SCORE_UNITS)}"
                )
            values = np.asarray(self.values, dtype=np.float64)
        else:
            raise ValueError(
                f"signal {self.name!r}: kind ({self.kind!r}) must be 'flag' or 'score'"
            )
        if values.ndim != 1:
            raise ValueError(f"signal {self.name!r}: values must be one-dimensional")
        object.__setattr__(self, "values", values)

    def check_length(self, n_stations: int, method: str = "") -> None:
        """Raise ValueError unless there is one value per station."""
        if self.values.shape[0] != n_stations:
            who = f"{method} signal {self.name!r}" if method else f"signal {self.name!r}"
            raise ValueError(
                f"{who} has {self.values.shape[0]} entries; the election has {n_stations} stations"
            )


@runtime_checkable
class MethodResult(Protocol):
    """What every forensic method's result provides, and all its readers may rely on.

    * ``station_signals(election)``: the per-station flags and scores (name → signal, each
      with ``election.n_stations`` values); empty for a method that speaks about the election
      only. ``election`` is the one the method was run on.
    * ``to_json()``: the method's entry under ``methods`` in ``results.json`` (plain Python
      values; NaN kept as float, so ``json.dumps`` accepts it).
    * ``parameters()``: the choices the method ran with (seeds, widths, levels, bases), plain
      values, for the ``parameters`` block of ``results.json``.
    """

    def station_signals(self, election: Any) -> Mapping[str, StationSignal]: ...

    def to_json(self) -> dict: ...

    def parameters(self) -> dict: ...


def station_signals_of(result: Any, election: Any, method: str) -> Mapping[str, StationSignal]:
    """``result.station_signals(election)``, each checked to have one value per station.

    Raises TypeError naming ``method`` when ``result`` does not implement
    :class:`MethodResult`, and ValueError when a signal is not aligned to the election.
    """
    if not isinstance(result, MethodResult):
        raise TypeError(
            f"the result of {method!r} ({type(result).__name__}) does not implement the "
            "station-signal contract (pollwatch.results.MethodResult: station_signals, "
            "to_json, parameters)"
        )
    signals = result.station_signals(election)
    for sig in signals.values():
        sig.check_length(election.n_stations, method)
    return signals


@dataclasses.dataclass(frozen=True)
class Skipped:
    """The result of a method that did not run on this election, and why (``reason``)."""

    method: str
    reason: str

    def station_signals(self, election: Any) -> Mapping[str, StationSignal]:
        return {}

    def to_json(self) -> dict:
        return {"skipped": self.reason}

    def parameters(self) -> dict:
        return {}

    def summary(self) -> Summary:
        return Summary(self.method, f"Not computed: {self.reason}.")

    def _repr_html_(self) -> str:
        return self.summary().as_html()


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


def fmt_int(x: float | None) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{round(x):,}"
