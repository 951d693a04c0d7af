"""The independent sources of the reference-case demo, made from the simulation's truth.

* **Observers** at a simple random sample of stations copy the station protocol (the
  numbers as counted there). A few of those stations' protocols are then altered between
  the station and the centre, so the published file differs from the copies.
* **Cameras** at 1,000 stations chosen non-randomly (the largest stations, as a commission
  would pick showcase stations): watchers count the people who really voted (clean voters
  plus carousel voters, not stuffed ballots), audio is muted everywhere and about 40 % of
  cameras are turned away for part of the day.
* **Claims**: the public figures of the real 2024 election (example dataset).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pollwatch.model import Election
from pollwatch.simulate import Simulation


def observer_sample(sim: Simulation, size: int, seed: int, n_altered: int = 4):
    """Sampled station ids, the protocol copies, and the published (partly altered) election."""
    from pollwatch.quickcount.design import draw_sample
    from pollwatch.quickcount.simulation import alter_protocols, copies_from

    design = draw_sample(sim.election, size, seed=seed)
    ids = design.table["station_id"].to_list()
    rng = np.random.default_rng(seed)
    altered = sorted(rng.choice(ids, size=n_altered, replace=False).tolist())
    published = alter_protocols(sim.election, altered, seed)
    return design, copies_from(sim.election, ids), published, altered


def camera_tallies(sim: Simulation, published: Election, n_cameras: int, seed: int,
                   window_minutes: int = 15, turned_away_share: float = 0.4):
    """Tallies and status log for ``n_cameras`` of the largest stations (non-random placement)."""
    from pollwatch.cameras.data import STATUS_SCHEMA, tallies_frame
    from pollwatch.cameras.simulate import CLOSE, OPEN, stratum_profile

    rng = np.random.default_rng(seed)
    truth = sim.truth
    present = (truth["clean_issued"] + truth["carousel"]).to_numpy()  # people who really came
    ids = truth["station_id"].to_numpy()
    chosen = np.argsort(-sim.election.field("registered"), kind="stable")[:n_cameras]
    starts = np.arange(OPEN, CLOSE, window_minutes, dtype=float)
    ends = starts + window_minutes
    profile = stratum_profile("urban", starts, ends)
    rows, status_rows = [], []
    for i in chosen:
        sid = str(ids[i])
        counts = rng.poisson(present[i] * rng.dirichlet(profile * 3000))
        status_rows += [(sid, float(OPEN), "online"), (sid, float(OPEN), "audio_muted")]
        away = np.zeros(len(starts), bool)
        if rng.random() < turned_away_share:
            a = int(rng.integers(0, len(starts) - 4))
            b = a + int(rng.integers(4, len(starts) // 2))
            away[a:b] = True
            status_rows += [(sid, float(starts[a]) + 0.5, "turned_away"), (sid, float(starts[min(b, len(starts) - 1)]), "online")]
        for j in range(len(starts)):
            seen = int(rng.binomial(counts[j], 0.15)) if away[j] else int(counts[j])
            rows.append(dict(station_id=sid, window_start=starts[j], window_end=ends[j], watcher="w1",
                             count=seen, usable=True, reason=None))
    status = pl.DataFrame(status_rows, schema=STATUS_SCHEMA, orient="row").sort("station_id", "time")
    return tallies_frame(rows), status, ids[chosen]
