"""``pollwatch census check``: coverage, totals, corrected estimate, bounds and claim verdicts.

Puts :mod:`~pollwatch.census.sheets`, :mod:`~pollwatch.census.estimate` and
:mod:`~pollwatch.census.bound` together against the official station list (``docs/census.md``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from pollwatch.census.bound import ClaimVerdict, WorstCase, judge_claims, worst_case
from pollwatch.census.estimate import (
    SETTLEMENT_COLUMNS,
    CensusEstimate,
    coverage_corrected_estimate,
    selection_check,
)
from pollwatch.census.sheets import Sheets
from pollwatch.claims.model import Claim
from pollwatch.i18n import gettext, note
from pollwatch.model.election import Election
from pollwatch.results import ResultMixin, Summary, fmt_int, fmt_pct, jsonable

__all__ = ["CensusCheck", "census_check"]


@dataclass(frozen=True)
class CensusCheck(ResultMixin):
    """Everything the census says; ``to_json()`` is the ``--json`` document."""

    sheets: dict
    coverage: dict
    totals: dict
    estimate: CensusEstimate | None
    bound: WorstCase
    claims: tuple[ClaimVerdict, ...]
    findings: tuple[dict, ...]
    diagnostics: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "sheets": jsonable(self.sheets),
            "coverage": jsonable(self.coverage),
            "totals": jsonable(self.totals),
            "estimate": (
                None
                if self.estimate is None
                else {
                    **self.estimate.parameters(),
                    "assumption": self.estimate.assumption,
                    "collected": self.estimate.collected,
                    "stations": self.estimate.stations,
                    "post_strata": self.estimate.n_strata,
                    "df": self.estimate.df,
                    "quantities": [q.to_dict() for q in self.estimate.quantities],
                    "notes": list(self.estimate.notes),
                }
            ),
            "bound": jsonable(self.bound.to_dict()),
            "claims": [c.to_dict() for c in self.claims],
            "findings": jsonable(list(self.findings)),
            "diagnostics": jsonable(self.diagnostics),
        }

    def summary(self) -> Summary:
        cov = self.coverage.get("overall", {})
        share = cov.get("share")
        usable, filed = f"{self.sheets['usable']:,}", f"{self.sheets['filed']:,}"
        sheets = (
            gettext(
                "{usable} usable sheets of {filed} filed, covering {share} of stations."
            ).format(usable=usable, filed=filed, share=fmt_pct(share))
            if share is not None
            else gettext("{usable} usable sheets of {filed} filed.").format(
                usable=usable, filed=filed
            )
        )
        text = " ".join([sheets, gettext("{n} finding(s).").format(n=f"{len(self.findings):,}")])
        verdicts = {
            v: sum(c.verdict == v for c in self.claims)
            for v in ("impossible", "consistent", "unverifiable")
        }
        if self.claims:
            text += " " + gettext("Claims: {verdicts}.").format(
                verdicts=", ".join(
                    gettext("{n} {kind}").format(n=n, kind=gettext(v))
                    for v, n in verdicts.items()
                    if n
                )
            )
        rows = [(f"votes {k}", fmt_int(v)) for k, v in self.totals.items()]
        notes = [
            note(
                "{source}: {quantity} = {value} — {verdict}: {reason}",
                source=c.source,
                quantity=c.quantity,
                value=format(c.value, "g"),
                verdict=note(c.verdict),
                reason=c.reason,
            )
            for c in self.claims
        ]
        return Summary("Tally-sheet census", text, rows, notes)


def _candidate_names(sheets: Sheets, official: Election | None) -> dict[str, str]:
    """Sheet column → candidate name (the official file's name where the column matches)."""
    if official is None:
        return {c: c for c in sheets.candidates}
    by = {
        **{c.id: c.name for c in official.candidates},
        **{c.name: c.name for c in official.candidates},
    }
    return {c: by.get(c, c) for c in sheets.candidates}


def census_check(
    sheets: Sheets,
    official: Election | None = None,
    claims: Iterable[Claim] = (),
    *,
    by: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> CensusCheck:
    """Run the census on collected sheets (``docs/census.md``).

    Parameters
    ----------
    sheets : Sheets
        From :func:`~pollwatch.census.sheets.read_sheets`.
    official : Election, optional
        The official per-station results: the station list (coverage, registered voters of
        uncollected stations, post-strata) and the sheet-by-sheet comparison. Without it, the
        bound uses each claim's own total and there is no corrected estimate.
    claims : iterable of Claim
        Published figures to judge (``pollwatch claims`` format).
    by : sequence of str, optional
        Post-stratification columns of the official file (default: its top hierarchy level).
    confidence : float
        Level of the corrected estimate's intervals.
    """
    names = _candidate_names(sheets, official)
    usable = sheets.usable
    findings: list[dict] = [f.to_dict() for f in sheets.findings]
    diagnostics: dict = {}
    coverage: dict = {}
    est: CensusEstimate | None = None
    registered_total = uncollected_reg = None
    if official is not None:
        tab = official.table
        ids = tab["station_id"].cast(pl.Utf8)
        known = set(ids.to_list())
        unknown = [s for s in usable["station_id"].to_list() if s not in known]
        for s in unknown:
            findings.append({"station_id": s, "kind": "unknown_station", "detail": "not on the official station list: its sheet is not counted", "rows": []})  # fmt: skip
        usable = usable.filter(pl.col("station_id").is_in(list(known)))
        pos = {s: i for i, s in enumerate(ids.to_list())}
        idx = np.array([pos[s] for s in usable["station_id"].to_list()], dtype=np.int64)
        collected = np.zeros(tab.height, dtype=bool)
        collected[idx] = True
        reg = official.field("registered").astype(float)
        reg_ok = np.isfinite(reg).all()
        if reg_ok:
            registered_total = int(reg.sum())
            uncollected_reg = int(reg[~collected].sum())
        levels = (
            list(by)
            if by is not None
            else [
                *official.meta.hierarchy[:1],
                *[c for c in SETTLEMENT_COLUMNS if c in tab.columns],
            ]
        )
        coverage = _coverage(tab, collected, reg if reg_ok else None, levels)
        votes = np.full((tab.height, len(sheets.candidates)), np.nan)
        votes[idx] = usable.select(sheets.candidates).to_numpy().astype(float)
        ballots = None
        if usable["ballots"].null_count() < usable.height:
            ballots = np.full(tab.height, np.nan)
            ballots[idx] = usable["ballots"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        if collected.sum() >= 2:
            est = coverage_corrected_estimate(
                votes,
                [names[c] for c in sheets.candidates],
                collected,
                tab,
                by=levels,
                registered=reg if reg_ok else None,
                ballots=ballots,
                confidence=confidence,
            )
        diagnostics = _representativeness(official, collected)
        if est is not None:
            est, diagnostics["selection_check"] = _replay(
                est, official, collected, tab, levels, reg if reg_ok else None, confidence
            )
        findings += _against_official(usable, official, sheets, names)
    totals = {names[c]: int(usable[c].sum()) for c in sheets.candidates}
    ballots_col = (
        int(usable["ballots_in_boxes"].sum())
        if "ballots_in_boxes" in sheets.fields and usable["ballots_in_boxes"].null_count() == 0
        else None
    )
    worst = worst_case(
        totals,
        collected_stations=usable.height,
        collected_ballots=ballots_col,
        uncollected_registered=uncollected_reg,
        registered_total=registered_total,
    )
    winner = official.winner.name if official is not None else None
    verdicts = judge_claims(claims, worst, est, winner=winner)
    return CensusCheck(
        sheets=sheets.counts(),
        coverage=coverage,
        totals=totals,
        estimate=est,
        bound=worst,
        claims=tuple(verdicts),
        findings=tuple(findings),
        diagnostics=diagnostics,
    )


def _coverage(
    tab: pl.DataFrame, collected: np.ndarray, reg: np.ndarray | None, levels: list[str]
) -> dict:
    def block(m: np.ndarray) -> dict:
        out: dict[str, float | None] = {
            "stations": int(m.sum()),
            "collected": int((collected & m).sum()),
        }
        n_all, n_col = int(m.sum()), int((collected & m).sum())
        out["share"] = n_col / n_all if n_all else None
        if reg is not None:
            tot = float(reg[m].sum())
            out["registered_share"] = float(reg[m & collected].sum()) / tot if tot else None
        return out

    cov = {"overall": block(np.ones(tab.height, dtype=bool))}
    for lvl in levels:
        vals = tab[lvl].cast(pl.Utf8).fill_null("∅").to_numpy()
        cov[f"by_{lvl}"] = {str(g): block(vals == g) for g in np.unique(vals)}
    return cov


def _replay(
    est: CensusEstimate,
    official: Election,
    collected: np.ndarray,
    tab: pl.DataFrame,
    levels: list[str],
    reg: np.ndarray | None,
    confidence: float,
) -> tuple[CensusEstimate, dict]:
    names = [c.name for c in official.candidates]
    V = official.votes_matrix().astype(float)
    cast = official.ballots_cast().astype(float)
    replay = coverage_corrected_estimate(
        V, names, collected, tab, by=levels, registered=reg, ballots=cast, confidence=confidence
    )
    tot = V.sum(axis=0)
    actual = {f"share:{n}": float(tot[k] / tot.sum()) for k, n in enumerate(names)}
    actual |= {f"votes:{n}": float(tot[k]) for k, n in enumerate(names)}
    actual["valid_votes"] = float(tot.sum())
    if reg is not None and np.isfinite(cast).all():
        actual["ballots_cast"] = float(cast.sum())
        actual["turnout"] = float(cast.sum() / reg.sum())
    return selection_check(est, replay, actual)


def _representativeness(official: Election, collected: np.ndarray) -> dict:
    """Official results at collected vs uncollected stations (``docs/census.md`` §2.3).

    A large gap says the collection is not like the rest, by the official numbers' own account
    (which may themselves be altered): read the corrected estimate with that in mind.
    """
    w = official.winner
    v = official.votes(w.id).astype(float)
    valid = official.votes_matrix().sum(axis=1).astype(float)
    cast = official.ballots_cast().astype(float)
    reg = official.field("registered").astype(float)
    out: dict = {"winner": w.name}

    def ratio(num: np.ndarray, den: np.ndarray, m: np.ndarray) -> float:
        d = np.nansum(den[m])
        return float(np.nansum(num[m]) / d) if d else math.nan

    for name, num, den in (("winner_share", v, valid), ("turnout", cast, reg)):
        a, b = ratio(num, den, collected), ratio(num, den, ~collected)
        out[name] = {"collected": a, "uncollected": b, "gap": a - b}
    return out


def _against_official(
    usable: pl.DataFrame, official: Election, sheets: Sheets, names: dict[str, str]
) -> list[dict]:
    """Sheet-by-sheet comparison: every candidate whose official figure differs from the sheet.

    ``sheet_above_official`` (a candidate lost votes between the sheet and the official table) is
    the Belarus-2020 kind of evidence; ``official_above_sheet`` is votes added.
    """
    by_name = {c.name: c.id for c in official.candidates}
    tab = official.table.with_columns(pl.col("station_id").cast(pl.Utf8))
    cols: dict[str, str] = {}
    for c in sheets.candidates:
        o = by_name.get(names[c])
        if o is not None and o in tab.columns:
            cols[c] = o
    if not cols:
        return []
    joined = usable.select(["station_id", *cols]).join(
        tab.select(["station_id", *cols.values()]).rename(
            {o: f"{o}__official" for o in cols.values()}
        ),
        on="station_id",
    )
    out = []
    for r in joined.to_dicts():
        for c, o in cols.items():
            s, off = r[c], r[f"{o}__official"]
            if s is None or off is None or s == off:
                continue
            kind = "sheet_above_official" if s > off else "official_above_sheet"
            out.append({"station_id": r["station_id"], "kind": kind, "candidate": names[c], "sheet": int(s), "official": int(off), "difference": int(off - s), "detail": f"{names[c]}: sheet {s:,}, official {off:,}"})  # fmt: skip
    return out
