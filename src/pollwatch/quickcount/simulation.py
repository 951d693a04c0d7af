"""Small seeded election generator for quick-count tests and the coverage benchmark.

Stations of unequal size (log-normal registered voters) in regions with their own turnout and
leader share, and a station-level beta spread of the vote (an intra-station correlation), so
that both stratification and clustering matter. Not a forensic simulator: no fraud models.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.model import Election, ElectionMeta
from pollwatch.quickcount.copies import ProtocolCopies

__all__ = ["alter_protocols", "copies_from", "simulate_frame"]


def simulate_frame(
    seed: int,
    *,
    stations: int = 4000,
    regions: int = 10,
    candidates: int = 3,
    median_registered: float = 900,
    concentration: float = 40.0,
) -> Election:
    """A synthetic election of ``stations`` stations in ``regions`` regions (hierarchy ``region``),
    with an ``urban`` column; region sizes, turnouts and leader shares differ."""
    if stations < 2 * regions:
        raise ValueError(f"stations ({stations}) must be at least 2 × regions ({2 * regions})")
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.full(regions, 3.0))
    region = np.sort(rng.choice(regions, stations, p=weights))
    region[:regions] = np.arange(regions)  # every region has stations
    urban = rng.random(stations) < 0.4
    reg = np.maximum(30, rng.lognormal(np.log(median_registered), 0.6, stations)).astype(np.int64)
    reg = np.where(urban, reg * 2, reg)
    tau = rng.uniform(0.45, 0.8, regions)[region] - 0.08 * urban
    turnout = rng.beta(tau * 30, (1 - tau) * 30)
    cast = rng.binomial(reg, turnout)
    invalid = rng.binomial(cast, 0.02)
    valid = cast - invalid
    base = rng.dirichlet(np.full(candidates, 2.0), regions)[region]
    base[urban] = 0.7 * base[urban] + 0.3 * np.roll(base[urban], 1, axis=1)
    shares = np.vstack([rng.dirichlet(concentration * b + 0.01) for b in base])
    votes = np.vstack([rng.multinomial(v, s) for v, s in zip(valid, shares, strict=True)])
    names = [f"Candidate {chr(65 + k)}" for k in range(candidates)]
    e = Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes={n: votes[:, k] for k, n in enumerate(names)},
        hierarchy={"region": np.array([f"R{r:02d}" for r in region])},
        meta=ElectionMeta(country="XX", name=f"simulated ({seed})"),
    )
    return _with_urban(e, urban)


def _with_urban(e: Election, urban: np.ndarray) -> Election:
    table = e.table.with_columns(pl.Series("urban", np.where(urban, "urban", "rural")))
    return Election(table, e.meta)


def copies_from(election: Election, station_ids, *, arrived=None) -> ProtocolCopies:
    """Protocol copies that reproduce the election's own protocols at ``station_ids``."""
    ids = pl.Series("station_id", [str(s) for s in station_ids])
    cols = ["station_id", "registered", "valid", "invalid", *[c.id for c in election.candidates]]
    t = election.table.select(cols).join(pl.DataFrame([ids]), on="station_id", how="semi")
    t = pl.DataFrame([ids]).join(t, on="station_id", how="left")
    if arrived is not None:
        t = t.with_columns(pl.Series("arrived", np.asarray(arrived)))
    return ProtocolCopies.from_frame(t, "<simulated copies>")


def alter_protocols(election: Election, station_ids, seed: int, *, shift: int = 50) -> Election:
    """An "official" election in which every station of ``station_ids`` had 1 to ``shift`` votes
    moved to the first candidate from the strongest other one after the count (or, where the
    others have none, from the first candidate to the second): what a protocol copy catches."""
    rng = np.random.default_rng(seed)
    V = election.votes_matrix().copy()
    ids = election.table["station_id"].to_numpy().astype(str)
    rows = np.flatnonzero(np.isin(ids, np.asarray([str(s) for s in station_ids])))
    for i in rows:
        donor = 1 + int(np.argmax(V[i, 1:]))
        src, dst = (donor, 0) if V[i, donor] > 0 else (0, 1)
        k = min(int(rng.integers(1, shift + 1)), int(V[i, src]))
        if k == 0:
            raise ValueError(f"station {ids[i]} has no votes to move")
        V[i, src] -= k
        V[i, dst] += k
    cols = [pl.Series(c.id, V[:, j]) for j, c in enumerate(election.candidates)]
    return Election(election.table.with_columns(cols), election.meta)
