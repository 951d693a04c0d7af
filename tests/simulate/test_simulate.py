"""The simulator: reproducible, consistent protocols, truth that adds up, fraud where injected."""

import numpy as np
import polars as pl
import pytest

from pollwatch.ingest import read_election
from pollwatch.simulate import (
    Carousel,
    Extreme,
    FraudConfig,
    Rounding,
    Stuffing,
    Switching,
    simulate_election,
)
from pollwatch.validate import validate

ALL = FraudConfig(
    stuffing=Stuffing(0.1),
    switching=Switching(0.05),
    carousel=Carousel(0.05),
    rounding=Rounding(0.03),
    extreme=Extreme(0.01),
)


def test_reproducible():
    a = simulate_election(3000, seed=7, fraud=ALL)
    b = simulate_election(3000, seed=7, fraud=ALL)
    c = simulate_election(3000, seed=8, fraud=ALL)
    assert a.election.table.equals(b.election.table) and a.truth.equals(b.truth)
    assert not a.election.table.equals(c.election.table)


@pytest.mark.parametrize("fraud", [FraudConfig(), ALL])
def test_protocols_are_consistent(fraud):
    s = simulate_election(5000, seed=3, fraud=fraud, layout="azerbaijan")
    assert sum(validate(s.election).counts().values()) == 0


def test_truth_adds_up():
    s = simulate_election(5000, seed=4, fraud=ALL)
    e, t = s.election, s.truth
    lead = e.votes(e.candidates[0].name)
    np.testing.assert_array_equal(lead - t["clean_leader_votes"].to_numpy(), t["fraud"].to_numpy())
    np.testing.assert_array_equal(
        e.ballots_issued() - t["clean_issued"].to_numpy(), t["ballots_added"].to_numpy()
    )
    kinds = ["carousel", "switched", "stuffed", "extreme", "rounded"]
    assert (
        t.select(pl.sum_horizontal(kinds)).to_series().to_numpy() == t["fraud"].to_numpy()
    ).all()


def test_fraud_raises_turnout_and_share_where_injected():
    clean = simulate_election(8000, seed=5)
    dirty = simulate_election(8000, seed=5, fraud=FraudConfig(stuffing=Stuffing(0.2)))
    hit = dirty.truth["stuffed"].to_numpy() > 0
    assert 0.1 < hit.mean() < 0.3
    t0, t1 = clean.election.turnout(), dirty.election.turnout()
    assert (t1[hit] > t0[hit]).mean() > 0.95 and np.allclose(t1[~hit], t0[~hit], equal_nan=True)
    assert np.nanmean(dirty.election.share()[hit]) > np.nanmean(clean.election.share()[hit]) + 0.05


def test_rounding_makes_whole_percents():
    s = simulate_election(5000, seed=6, fraud=FraudConfig(rounding=Rounding(0.2, target="turnout")))
    e = s.election
    # a whole percent within ±0.05 pp is reachable with integer counts only from 1,000 voters up
    hit = (s.truth["rounded"].to_numpy() > 0) & (e.field("registered") >= 1000)
    p = 100.0 * e.ballots_issued() / e.field("registered")
    assert hit.sum() > 100
    assert (np.abs(p[hit] - np.round(p[hit])) <= 0.05).mean() > 0.98


@pytest.mark.parametrize(
    "layout,preset",
    [("russia", "russia_cec"), ("azerbaijan", "azerbaijan_pec"), ("generic", "mapping")],
)
def test_write_and_read_back(tmp_path, layout, preset):
    s = simulate_election(2000, seed=9, fraud=ALL, layout=layout)
    paths = s.write(tmp_path)
    e = read_election(paths["results.csv"], mapping=paths.get("mapping.toml"))
    assert e.ingest_report.mapping == preset
    assert e.totals()["votes"] == s.election.totals()["votes"]
    assert e.totals()["registered"] == s.election.totals()["registered"]
    assert e.totals()["ballots_issued"] == s.election.totals()["ballots_issued"]
    assert (tmp_path / "truth.csv").exists() and (tmp_path / "params.json").exists()


def test_bad_parameters_name_themselves():
    with pytest.raises(
        ValueError, match=r"stuffing.fraction \(1.5\) must be in the interval \[0, 1\]"
    ):
        Stuffing(1.5)
    with pytest.raises(ValueError, match="layout .* must be one of"):
        simulate_election(10, layout="martian")
    with pytest.raises(ValueError, match="fraud.favoured"):
        simulate_election(10, fraud=FraudConfig(favoured=9))


def test_layout_regions_and_candidates_keywords():
    s = simulate_election(3000, seed=2, n_regions=4, n_candidates=6, country_layout="russia")
    e = s.election
    assert s.layout == s.country_layout == "russia" and e.meta.profile == "RU"
    assert len(e.candidates) == 6 and len(np.unique(e.level("region"))) == 4
    assert s.params["seed"] == 2 and s.params["electorate"]["n_regions"] == 4
    assert e.winner.name == "Incumbent"
    with pytest.raises(ValueError, match=r"n_candidates \(1\) must be at least 2"):
        simulate_election(10, n_candidates=1)


def test_fast_table_matches_from_arrays():
    """The simulator builds its table directly (speed); it must equal Election.from_arrays'."""
    from pollwatch.model import Election

    e = simulate_election(1500, seed=12, fraud=ALL).election
    f = {
        k: e.field(k)
        for k in e.table.columns
        if k
        in (
            "registered_main",
            "ballots_received",
            "ballots_cancelled",
            "ballots_issued_early",
            "ballots_issued_station",
            "ballots_issued_mobile",
            "ballots_mobile_box",
            "ballots_stationary_box",
            "mobile_requests",
            "additional_list",
            "absentee_voted",
            "absentee_taken",
        )
    }
    ref = Election.from_arrays(
        registered=e.field("registered"),
        valid=e.field("valid"),
        invalid=e.field("invalid"),
        votes={c.name: e.field(c.id) for c in e.candidates},
        station_ids=e.station_ids,
        hierarchy={h: e.level(h) for h in e.meta.hierarchy},
        fields={k: f[k] for k in e.table.columns if k in f},
        meta=e.meta,
    )
    assert ref.table.equals(e.table) and ref.meta == e.meta


def test_clean_truth_columns():
    s = simulate_election(4000, seed=13, fraud=ALL)
    t = s.truth
    np.testing.assert_allclose(
        t["clean_turnout"].to_numpy(),
        t["clean_issued"].to_numpy() / t["clean_registered"].to_numpy(),
    )
    clean = t["kinds"].to_numpy() == ""
    e = s.election
    np.testing.assert_array_equal(
        e.ballots_cast()[clean], t["clean_ballots_cast"].to_numpy()[clean]
    )
    assert (e.ballots_cast()[~clean] >= t["clean_ballots_cast"].to_numpy()[~clean]).all()


def test_sizes_are_heavy_tailed_with_tiny_stations():
    r = simulate_election(20_000, seed=14).election.field("registered")
    assert (r < 100).sum() > 50 and r.max() > 4 * np.median(r)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n_regions": 0}, r"n_regions \(0\) must be at least 1"),
        (
            {"n_regions": 20, "n_constituencies": 5},
            r"n_constituencies \(5\) must be at least n_regions \(20\)",
        ),
        ({"invalid_rate": 1.2}, r"invalid_rate \(1.2\) must be in the interval \[0, 1\]"),
        (
            {"share_station_sd": -0.1},
            r"share_station_sd \(-0.1\) must be in the interval \[0, inf\)",
        ),
        ({"base_shares": (0.5, 0.5)}, r"candidates \(4 names\) and base_shares \(2 shares\)"),
    ],
)
def test_bad_electorate_parameters_name_themselves(kwargs, message):
    from pollwatch.simulate import ElectorateConfig

    with pytest.raises(ValueError, match=message):
        ElectorateConfig(**kwargs)
