"""Quick-count results built on simulated data, one of every kind whose ``summary()`` a person
reads (estimate, lead, calls, verdicts, turnout, comparisons, design, exit polls), for the
translation tests of ``test_quickcount_sentences.py``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl

from pollwatch.quickcount.compare import (
    compare,
    compare_official,
    match_protocols,
    tally_sheet_bound,
)
from pollwatch.quickcount.copies import ProtocolCopies
from pollwatch.quickcount.design import draw_sample, sample_size
from pollwatch.quickcount.estimate import (
    breakdown,
    convergence,
    estimate,
    estimate_lead,
    ratio_estimate,
)
from pollwatch.quickcount.exitpoll import ExitPoll, compare_exit_poll
from pollwatch.quickcount.sample import read_sample
from pollwatch.quickcount.simulation import (
    alter_protocols,
    copies_from,
    manufacture_share,
    observer_counts,
    report_arrivals,
    simulate_frame,
    stuff_ballots,
    turnout_acceptance,
    verdict_acceptance,
)
from pollwatch.quickcount.turnout import estimate_observed_turnout
from pollwatch.quickcount.verdict import decide

STRATA = ["region", "urban"]


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def build(tmp: Path) -> dict[str, object]:
    """name -> result (anything with ``summary()``)."""
    out: dict[str, object] = {}
    e = simulate_frame(31, stations=1500, regions=6)
    design = draw_sample(e, 300, strata=STRATA, seed=3)
    out["design"] = design
    ids = design.table["station_id"].to_list()
    copies = copies_from(e, ids)
    r = _quiet(estimate, copies, e, strata=STRATA, bootstrap=40, seed=1)
    out["estimate"] = r
    # a registered sample: off-sample copies, arrivals, a copy that fails the checks
    sample = design.write_registered(tmp / "sample.csv")
    prim = [p.station_id for p in sample.primaries]
    others = sorted(set(e.table["station_id"].to_list()) - {s.station_id for s in sample.stations})
    extra = others[:7]
    got, arrived = report_arrivals(e, prim, 5)
    got = [str(s) for s in got]
    c2 = copies_from(e, got + extra, arrived=np.concatenate([arrived, np.full(len(extra), 9.0)]))
    t = c2.table.with_columns(
        pl.when(pl.col("station_id") == got[0])
        .then(pl.col("registered") // 10)
        .otherwise(pl.col("registered"))
        .alias("registered")
    )
    c2 = ProtocolCopies.from_frame(t, "copies.csv")
    out["estimate_sample"] = _quiet(estimate, c2, e, sample=read_sample(tmp / "sample.csv"))
    # few reports: t intervals, a "too close" majority call, the too-early verdict
    small = _quiet(estimate, copies_from(e, ids[:12]), e)
    out["estimate_small"] = small
    out["estimate_none"] = _quiet(estimate, copies_from(e, ids[:1]), e)
    out["ratio"] = ratio_estimate([120, 80, 150], [300, 250, 400])
    out["lead_vector"] = estimate_lead([120, 80, 150], [150, 140, 200], [300, 250, 400])
    out["lead_close"] = estimate_lead([150, 140, 200], [149, 141, 200], [300, 250, 400])
    out["breakdown"] = _quiet(breakdown, copies, e, "region", strata=STRATA, min_stations=60)
    out["convergence"] = _quiet(convergence, copies, e, strata=STRATA, steps=4)
    out["too_early"] = _quiet(decide, small, e, sampled=300)
    # consistent, and a discrepancy from a share manufactured outside the sample
    out["compare_clean"] = _quiet(compare, copies, e, frame=e, strata=STRATA, sampled=design)
    cooked = manufacture_share(e, ids, 0.04, 1)
    altered = alter_protocols(cooked, ids[3:30:7], seed=5)
    out["compare_cooked"] = _quiet(compare, copies, altered, frame=e, strata=STRATA, sampled=design)
    out["official"] = compare_official(r, cooked)
    out["protocols"] = match_protocols(copies_from(e, ids[:40] + ["nowhere"]), altered)
    sheets = pl.DataFrame(
        {
            "sheet_id": ["a", "a", "b", "c", "c"],
            "A": [100, 100, 60, 20, 25],
            "B": [10, 10, 40, 30, 30],
        }
    )
    out["sheets_decided"] = tally_sheet_bound(sheets, "A", "B", total_votes=320)
    out["sheets_open"] = tally_sheet_bound(sheets, "A", "B", uncollected_registered=100)
    # turnout from the observers' own counts, with ballots stuffed at some observed stations
    counts = observer_counts(e, ids, 3)
    stuffed = stuff_ballots(e, ids[5:25], 1, take=0.2)
    out["turnout_stuffed"] = _quiet(
        estimate_observed_turnout, counts, stuffed, frame=e, strata=STRATA
    )
    out["turnout_clean"] = _quiet(estimate_observed_turnout, counts, e, frame=e, strata=STRATA)
    out["sample_size"] = sample_size(0.01, voters_per_station=600, rho=0.05, frame_stations=1500)
    name = r.candidates[0]
    out["exit_poll"] = compare_exit_poll(
        ExitPoll(
            "Org", {name: min(r[name].estimate + 0.1, 0.99)}, sample_size=5000, design_effect=2
        ),
        e,
        r,
    )
    out["exit_poll_plain"] = compare_exit_poll(
        ExitPoll("Org", {"A": 0.6, "B": 0.4}, sample_size=4000, stations=100, rho=0.05),
        {"A": 0.6, "B": 0.4},
    )
    # the acceptance simulations' own summaries (a few small runs)
    small_sim = dict(stations=600, regions=3, margin=0.03)
    out["verdict_acceptance"] = _quiet(verdict_acceptance, 2, **small_sim)
    out["verdict_acceptance_cooked"] = _quiet(verdict_acceptance, 2, manufactured=0.03, **small_sim)
    out["turnout_acceptance"] = _quiet(turnout_acceptance, 2, stuffed_pp=0.03, **small_sim)
    return out
