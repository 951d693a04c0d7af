"""Simulated census nights: altered official results and a non-random collection of sheets.

For the calibration in ``docs/census.md`` §4. The true protocols come from
:func:`pollwatch.quickcount.simulation.simulate_frame` (regions, urban stations twice as large
and voting differently). The official table then moves votes to the first candidate, mostly at
rural stations; observers collect the true sheets *urban first* (collection probability rising
with urban status and size), reaching a coverage drawn from ``coverage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.census.sheets import Sheets, sheets_from_frame
from pollwatch.model import Election
from pollwatch.quickcount.simulation import simulate_frame

__all__ = ["CensusNight", "simulate_census"]


@dataclass(frozen=True)
class CensusNight:
    """One simulated night: the altered official results, the sheets collected, the truth."""

    official: Election
    truth: Election
    sheets: Sheets
    collected: np.ndarray
    coverage: float

    def write_official(self, directory: str | Path) -> tuple[Path, Path]:
        """The altered official results as a CSV (candidates under their names, the region and
        urban columns kept) and the TOML mapping that reads it back: ``official.csv``,
        ``official.toml`` in ``directory``."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        csv, toml = d / "official.csv", d / "official.toml"
        self.official.table.rename({c.id: c.name for c in self.official.candidates}).drop(
            "exclusion"
        ).write_csv(csv)
        toml.write_text(
            '[station]\nid = ["station_id"]\nhierarchy = ["region", "urban"]\n'
            '[fields]\nregistered = "registered"\nvalid = "valid"\ninvalid = "invalid"\n'
            "[candidates]\nrest = true\n",
            encoding="utf-8",
        )
        return csv, toml

    def true_share(self, name: str) -> float:
        v = self.truth.votes_matrix().sum(axis=0).astype(float)
        return float(v[[c.name for c in self.truth.candidates].index(name)] / v.sum())


def simulate_census(
    seed: int,
    *,
    stations: int = 3000,
    regions: int = 8,
    coverage: tuple[float, float] = (0.60, 0.85),
    moved: float = 0.25,
    altered_rural: float = 0.6,
    altered_urban: float = 0.1,
    urban_first: float = 2.0,
) -> CensusNight:
    """Simulate one census night.

    Parameters
    ----------
    seed : int
        Seeds everything.
    stations, regions : int
        Size of the election.
    coverage : (float, float)
        The share of stations whose sheet is collected is drawn uniformly from this range.
    moved : float
        At an altered station, this share of every other candidate's votes goes to the first
        candidate in the official table.
    altered_rural, altered_urban : float
        Probability that a rural / urban station's official figures are altered.
    urban_first : float
        Log-odds advantage of an urban station to be collected (and +0.5 per doubling of size).
    """
    rng = np.random.default_rng(seed)
    truth = simulate_frame(seed, stations=stations, regions=regions, candidates=3)
    urban = (truth.table["urban"] == "urban").to_numpy()
    reg = truth.field("registered").astype(float)
    # official: votes moved to the first candidate, mostly where fewer observers go
    V = truth.votes_matrix().astype(np.int64)
    alter = rng.random(stations) < np.where(urban, altered_urban, altered_rural)
    take = np.floor(V[:, 1:] * moved).astype(np.int64) * alter[:, None]
    W = V.copy()
    W[:, 1:] -= take
    W[:, 0] += take.sum(axis=1)
    cols = [pl.Series(c.id, W[:, j]) for j, c in enumerate(truth.candidates)]
    official = Election(truth.table.with_columns(cols), truth.meta)
    # collection: urban and large stations first, to a coverage drawn in the range
    target = rng.uniform(*coverage)
    score = urban_first * urban + 0.5 * np.log2(reg / np.median(reg)) + rng.logistic(size=stations)
    collected = score >= np.quantile(score, 1 - target)
    ids = truth.table["station_id"].cast(pl.Utf8).to_numpy()
    sheet = pl.DataFrame(
        {
            "station_id": ids[collected],
            **{c.name: V[collected, j] for j, c in enumerate(truth.candidates)},
            "registered": reg[collected].astype(np.int64),
            "ballots_in_boxes": (truth.field("valid") + truth.field("invalid"))[collected].astype(
                np.int64
            ),
        }
    )
    return CensusNight(
        official,
        truth,
        sheets_from_frame(sheet, source=f"<simulated sheets {seed}>"),
        collected,
        float(collected.mean()),
    )
