"""Turnout from the observers' own counts (docs/quickcount.md §9)."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.errors import InputDataError
from pollwatch.model import Election, ElectionMeta
from pollwatch.quickcount.design import draw_sample
from pollwatch.quickcount.estimate import ratio_estimate
from pollwatch.quickcount.simulation import (
    observer_counts,
    simulate_frame,
    stuff_ballots,
    turnout_acceptance,
)
from pollwatch.quickcount.turnout import (
    ObservedCounts,
    estimate_observed_turnout,
    read_observed_counts,
)
from pollwatch.results import station_signals_of

STRATA = ["region", "urban"]


def _small() -> Election:
    n = 30
    reg = np.full(n, 400)
    reg[:3] = [300, 250, 400]
    valid = np.full(n, 190)
    valid[:3] = [118, 78, 147]
    invalid = np.full(n, 4)
    invalid[:3] = [2, 2, 3]
    return Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes={"A": valid - valid // 3, "B": valid // 3},
        meta=ElectionMeta(country="XX", name="small"),
    )


def test_matches_the_ratio_estimator_test_vector():
    e = _small()
    ids = e.table["station_id"].to_list()[:3]
    obs = pl.DataFrame({"station_id": ids, "ballots_in_boxes": [120, 80, 150]})
    r = estimate_observed_turnout(obs, e)
    ref = ratio_estimate([120, 80, 150], [300, 250, 400], frame_sizes=30)
    assert r.estimate == pytest.approx(0.368421, abs=1e-6)
    assert r.se == pytest.approx(ref.se) and r.df == 2
    # t interval with 2 df
    assert r.high - r.estimate == pytest.approx(4.302653 * ref.se, rel=1e-6)
    # Kish: variance over that of an SRS of 950 registered voters (with the FPC 1 − 3/30)
    srs = r.estimate * (1 - r.estimate) / 950 * (1 - 3 / 30)
    assert r.design_effect == pytest.approx(ref.se**2 / srs)
    # protocols at the same stations hold exactly what was counted: no gap, no excess
    assert r.excess_estimate == pytest.approx(0) and not r.flagged


def test_blank_is_missing_not_zero_and_impossible_counts_quarantined():
    e = _small()
    ids = e.table["station_id"].to_list()
    obs = pl.DataFrame(
        {
            "station_id": ids[:5],
            "ballots_in_boxes": ["120", "80", "150", "", "999"],
            "voters_by_noon": ["50", "", "60", "10", "10"],
        }
    )
    r = estimate_observed_turnout(ObservedCounts.from_frame(obs, "obs.csv"), e)
    assert r.n_observed == 3 and r.estimate == pytest.approx(0.368421, abs=1e-6)
    why = dict(r.quarantined)
    assert "empty" in why[ids[3]] and "exceeds the 400 registered" in why[ids[4]]
    assert "left out of the estimate" in " ".join(r.summary().notes)
    noon = r.curve[0]
    assert noon.time == "12:00" and noon.stations == 2  # the blank is not a zero


def test_bad_input_names_file_line_column(tmp_path):
    p = tmp_path / "obs.csv"
    p.write_text("station_id,ballots_in_boxes\n1,12x\n1,30\n")
    with pytest.raises(InputDataError) as exc:
        read_observed_counts(p)
    text = "\n".join(str(i) for i in exc.value.issues)
    assert 'obs.csv, line 2 (station 1), column "ballots_in_boxes"' in text
    assert "got '12x'" in text and "station reported twice" in text
    p.write_text("station_id,voters\n1,3\n")
    with pytest.raises(InputDataError, match="ballots_in_boxes"):
        read_observed_counts(p)
    obs = pl.DataFrame({"station_id": ["nowhere", "1"], "ballots_in_boxes": [1, 2]})
    with pytest.raises(InputDataError, match="not in the frame"):
        estimate_observed_turnout(obs, _small())


@pytest.fixture(scope="module")
def sim():
    e = simulate_frame(41, stations=2000, regions=6)
    ids = draw_sample(e, 400, strata=STRATA, seed=2).table["station_id"].to_list()
    return e, ids, observer_counts(e, ids, 3)


def test_stuffing_at_observed_stations_is_flagged(sim):
    e, ids, counts = sim
    bad = ids[5:25]
    official = stuff_ballots(e, bad, 1, take=0.2)
    r = estimate_observed_turnout(counts, official, frame=e, strata=STRATA)
    flagged = {g.station_id for g in r.flagged}
    assert flagged == set(bad)
    assert all(g.gap > g.tolerance for g in r.flagged)
    assert r.excess_low > 0 and "more turnout than the observers counted" in r.excess_call
    sig = station_signals_of(r, official, "observed_turnout")
    above = sig["protocol_above_observed"].values
    sid = official.table["station_id"].to_list()
    assert {sid[i] for i in np.flatnonzero(above)} == set(bad)
    assert not sig["protocol_below_observed"].values.any()
    gap = sig["observed_turnout_gap"].values
    assert np.isfinite(gap).sum() == len(ids) and np.isnan(gap).sum() == len(sid) - len(ids)
    # the clean protocols: nothing flagged, and the official turnout inside the interval
    clean = estimate_observed_turnout(counts, e, frame=e, strata=STRATA)
    assert not clean.flagged and clean.low <= clean.official_turnout <= clean.high
    assert "inside the observers' interval" in clean.official_call


def test_stuffing_outside_the_sample_moves_official_above_interval(sim):
    e, ids, counts = sim
    outside = sorted(set(e.table["station_id"].to_list()) - set(ids))
    official = stuff_ballots(e, outside, 4, turnout_pp=0.03, take=0.5)
    r = estimate_observed_turnout(counts, official, frame=e, strata=STRATA)
    assert r.official_turnout > r.high and "above the observers' interval" in r.official_call
    assert not r.flagged  # the observed stations themselves are clean


def test_curve_rises_and_decreasing_counts_are_noted(sim):
    e, ids, counts = sim
    r = estimate_observed_turnout(counts, e, frame=e, strata=STRATA)
    est = [p.estimate for p in r.curve]
    assert [p.time for p in r.curve] == ["12:00", "17:00", "end of day"]
    assert est[0] < est[1] < est[2]
    bad = counts.with_columns(
        pl.when(pl.col("station_id") == ids[0])
        .then(pl.col("ballots_in_boxes") + 1)
        .otherwise(pl.col("voters_by_noon"))
        .alias("voters_by_noon")
    )
    r2 = estimate_observed_turnout(bad, e, frame=e, strata=STRATA)
    assert any("decrease during the day" in n for n in r2.notes)
    assert r2.estimate == r.estimate


def test_json_contract(sim):
    e, ids, counts = sim
    r = estimate_observed_turnout(counts, e, frame=e, strata=STRATA)
    doc = json.loads(json.dumps(r.to_json()))
    assert doc["flagged_stations"] == [] and "gaps" not in doc
    assert r.parameters()["count"] == "ballots_in_boxes"
    assert math.isfinite(doc["design_effect"]) and doc["design_effect"] > 1


def test_cli_turnout_and_compare_verdict(sim, tmp_path):
    e, ids, counts = sim
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[station]\nid = ["station"]\nhierarchy = ["region"]\n[fields]\n'
        'registered = "registered"\nvalid = "valid"\ninvalid = "invalid"\n'
        '[candidates]\ncolumns = ["Candidate A", "Candidate B", "Candidate C"]\n'
    )
    bad = ids[:4]
    official = stuff_ballots(e, bad, 1, take=0.2)
    official.table.select(
        "region",
        pl.col("station_id").alias("station"),
        "registered",
        "valid",
        "invalid",
        *[pl.col(c.id).alias(c.name) for c in official.candidates],
    ).write_csv(tmp_path / "official.csv")
    counts.write_csv(tmp_path / "observed.csv")
    runner = CliRunner()
    base = ["quickcount", "turnout", str(tmp_path / "observed.csv")]
    base += ["--official", str(tmp_path / "official.csv"), "-m", str(mapping)]
    r = runner.invoke(app, [*base, "--strata", "region", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert sorted(doc["flagged_stations"]) == sorted(bad)
    assert len(doc["gaps"]) == len(ids)
    r = runner.invoke(app, base)
    assert r.exit_code == 0 and "Turnout from the observers' counts" in r.output
    (tmp_path / "broken.csv").write_text("station_id,ballots_in_boxes\n1,-3\n")
    r = runner.invoke(
        app,
        [
            "quickcount",
            "turnout",
            str(tmp_path / "broken.csv"),
            "--official",
            str(tmp_path / "official.csv"),
            "-m",
            str(mapping),
        ],
    )
    assert r.exit_code == 1 and "non-negative integer" in r.output
    # compare: the verdict is in the JSON and heads the text
    from pollwatch.quickcount.simulation import copies_from

    cp = copies_from(e, ids)
    cp.table.rename({c.id: c.name for c in e.candidates}).write_csv(tmp_path / "copies.csv")
    e.table.select(
        "region",
        pl.col("station_id").alias("station"),
        "registered",
        "valid",
        "invalid",
        *[pl.col(c.id).alias(c.name) for c in e.candidates],
    ).write_csv(tmp_path / "truth.csv")
    cmp = ["quickcount", "compare", str(tmp_path / "copies.csv")]
    cmp += ["--official", str(tmp_path / "truth.csv"), "-m", str(mapping), "--strata", "region"]
    r = runner.invoke(app, [*cmp, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["verdict"] == "consistent"
    r = runner.invoke(app, cmp)
    assert r.output.startswith("VERDICT: consistent")


def test_acceptance_smoke():
    r = turnout_acceptance(3, seed=5, stations=1200, regions=4, stuffed_pp=0.03)
    assert r.runs == 3 and r.detected == 3 and r.stuffed_flagged > 0.8 * r.stuffed_stations
    assert r.clean_flagged <= 0.01 * r.clean_stations
