"""Helpers shared by the forensics methods: per-station ratios, hygiene masks, checks, notes.

Conventions (``docs/methods/forensics.md`` §0): turnout ``t = G/V`` (ballots *issued*) by
default, ``R/V`` (ballots *cast*) on request; leader share ``s = L/R``; percentages as
``(100·x)/n`` in float64 (``100·(x/n)`` flips one 2012 station at an integer edge).
Stations with ``V = 0`` or ``R = 0`` are dropped before dividing and counted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Literal

import numpy as np

from pollwatch.errors import DegenerateDataWarning, InputDataError, SmallSampleWarning
from pollwatch.model import EXCLUSION_REASONS, Election
from pollwatch.model.derived import percent
from pollwatch.model.election import EXCLUSION

__all__ = [
    "TURNOUT_BASES",
    "Notes",
    "basic_mask",
    "counts_exclusions",
    "evoting_mask",
    "excluded_mask",
    "leader_share",
    "percent",
    "require_analysable",
    "turnout_array",
    "turnout_numerator",
    "validate_choice",
    "validate_param",
]

TURNOUT_BASES = ("issued", "cast")
Basis = Literal["issued", "cast"]


def validate_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed`` (scipy-style message)."""
    allowed = tuple(allowed)
    if value not in allowed:
        opts = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} ({value!r}) not recognised; must be one of {opts}")


def validate_param(
    name: str,
    value: float,
    low: float = -math.inf,
    high: float = math.inf,
    inclusive: bool | tuple[bool, bool] = True,
) -> None:
    """Raise ``ValueError`` unless ``low ≤ value ≤ high`` (ends open where ``inclusive`` says so).

    >>> validate_param("bin_pp", 0.0, 0, 100, inclusive=(False, True))
    Traceback (most recent call last):
    ...
    ValueError: bin_pp (0.0) must be in the interval (0, 100].
    """
    lo_in, hi_in = (inclusive, inclusive) if isinstance(inclusive, bool) else inclusive
    ok = value is not None and not (isinstance(value, float) and math.isnan(value))
    if ok:
        ok = (value >= low if lo_in else value > low) and (value <= high if hi_in else value < high)
    if not ok:
        interval = f"{'[' if lo_in else '('}{low}, {high}{']' if hi_in else ')'}"
        raise ValueError(f"{name} ({value!r}) must be in the interval {interval}.")


def turnout_numerator(e: Election, basis: Basis = "issued") -> np.ndarray:
    """``G`` (ballots issued) or ``R`` (ballots cast) per station, int64."""
    validate_choice("basis", basis, TURNOUT_BASES)
    return e.ballots_issued() if basis == "issued" else e.ballots_cast()


def turnout_array(e: Election, basis: Basis = "issued") -> np.ndarray:
    """Turnout per station as a fraction (``G/V`` or ``R/V``); NaN where ``V = 0``."""
    validate_choice("basis", basis, TURNOUT_BASES)
    return e.turnout(basis)


def leader_share(e: Election, ref: str | None = None) -> np.ndarray:
    """Leader's (or ``ref``'s) share of ballots cast ``L/R`` per station; NaN where ``R = 0``."""
    return e.share(ref, denominator="cast")


def evoting_mask(e: Election) -> np.ndarray:
    """True for stations the ingest marked as e-voting pseudo-stations."""
    if EXCLUSION not in e.table.columns:
        return np.zeros(e.n_stations, bool)
    return (e.table[EXCLUSION] == "evoting").fill_null(False).to_numpy()


def excluded_mask(e: Election, *, exclude_evoting: bool = False) -> np.ndarray:
    """True for stations the model excludes from analysis (``Election.exclusion`` set).

    E-voting pseudo-stations count as excluded only with ``exclude_evoting``: they hold real
    counts, and the methods keep them unless asked (``docs/methods/forensics.md`` §0 offers the switch).
    Every other reason (no results, zero registered or ballots, an implausible count, missing
    counts, any reason ingest adds later) drops the station from every method, so that an
    excluded station changes no result (a station with 9,000,000,000 voters must not reach a
    method's tables).
    """
    if EXCLUSION not in e.table.columns:
        return np.zeros(e.n_stations, bool)
    col = e.table[EXCLUSION]
    out = col.is_not_null() if exclude_evoting else (col.is_not_null() & (col != "evoting"))
    return out.fill_null(False).to_numpy()


def basic_mask(e: Election, *, exclude_evoting: bool = False) -> np.ndarray:
    """Stations usable for ratios: not excluded (:func:`excluded_mask`), ``V > 0`` and ``R > 0``
    (optionally not e-voting rows).

    Rows without results have ``R = 0`` (nulls read as 0), so they are dropped here too.
    """
    excluded = excluded_mask(e, exclude_evoting=exclude_evoting)
    return (e.field("registered") > 0) & (e.ballots_cast() > 0) & ~excluded


def counts_exclusions(e: Election, *, exclude_evoting: bool = False) -> dict[str, int]:
    """How many stations :func:`basic_mask` drops, and why (first reason wins).

    Keys: ``zero_registered`` (``V = 0``), ``zero_cast`` (``R = 0`` with ``V > 0``; includes
    rows without results), ``evoting`` (only when excluded), one key per other exclusion
    reason of the model that drops stations (e.g. ``implausible_count``; only when non-zero),
    ``kept``.
    """
    v0 = e.field("registered") <= 0
    r0 = (e.ballots_cast() <= 0) & ~v0
    out = {"zero_registered": int(v0.sum()), "zero_cast": int(r0.sum())}
    dropped = v0 | r0
    if exclude_evoting:
        ev = evoting_mask(e) & ~dropped
        out["evoting"] = int(ev.sum())
        dropped |= ev
    other = excluded_mask(e, exclude_evoting=exclude_evoting) & ~dropped
    if other.any():
        reasons, counts = np.unique(e.exclusion[other].astype(str), return_counts=True)
        out.update({str(r): int(c) for r, c in zip(reasons, counts, strict=True)})
        dropped |= other
    out["kept"] = int((~dropped).sum())
    return out


def require_analysable(e: Election) -> int:
    """The number of analysable stations (``Election.analysable``); :class:`InputDataError`
    naming how many station rows there are and why each was excluded when there is none.

    Run before any method: on no data every method would only report its own failure, and
    arithmetic findings or a default p-value could still read as evidence.
    """
    n_ok = int(e.analysable().sum())
    if n_ok:
        return n_ok
    if e.n_stations == 0:
        raise InputDataError(
            "0 station rows read: nothing to analyse (expected at least one polling station "
            "with registered voters and ballots cast)"
        )
    why = "; ".join(
        f"{n:,} excluded as {k} [{EXCLUSION_REASONS.get(k, 'no description')}]"
        for k, n in sorted(e.exclusion_counts().items(), key=lambda kv: -kv[1])
    )
    raise InputDataError(
        f"{e.n_stations:,} station row{'s' if e.n_stations != 1 else ''} read and none can be "
        f"analysed: {why}; nothing to analyse"
    )


class Notes:
    """Collects plain-language notes for a result summary and emits matching warnings.

    >>> notes = Notes()
    >>> notes.add("turnout basis is R/V")          # note only
    >>> notes.small_sample("only 3 stations")      # note + SmallSampleWarning  # doctest: +SKIP
    >>> tuple(notes)
    ('turnout basis is R/V',)
    """

    def __init__(self) -> None:
        self._items: list[str] = []

    def add(self, text: str) -> None:
        if text not in self._items:
            self._items.append(text)

    def small_sample(self, text: str, stacklevel: int = 3) -> None:
        warnings.warn(text, SmallSampleWarning, stacklevel=stacklevel)
        self.add(text)

    def degenerate(self, text: str, stacklevel: int = 3) -> None:
        warnings.warn(text, DegenerateDataWarning, stacklevel=stacklevel)
        self.add(text)

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def as_tuple(self) -> tuple[str, ...]:
        return tuple(self._items)
