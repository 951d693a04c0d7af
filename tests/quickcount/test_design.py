"""Sample size (NDI Peru 2001 vectors, docs/methods/quickcount-and-cameras.md §1.3 rows 3–7), allocation, draw."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pollwatch.quickcount.design import (
    allocate,
    design_effect,
    draw_sample,
    expected_ballots,
    intraclass_correlation,
    rule_of_thumb_moe,
    sample_size,
    stations_needed,
    voters_needed,
)
from pollwatch.quickcount.simulation import simulate_frame

PERU_N = 14_570_774


class TestSampleSizeVectors:
    def test_peru_exact(self):
        # row 3: exact arithmetic at z = 2.58
        assert voters_needed(PERU_N, 0.0032, z=2.58) == pytest.approx(160_717.3, abs=0.05)

    def test_peru_printed_only_with_handbook_rounding(self):
        # the handbook prints 163,185 = 0.25/(0.000001515 + 0.000000017): z rounded to 2.6 and
        # both terms rounded by hand; without that rounding z = 2.6 does not give it either
        assert round(voters_needed(PERU_N, 0.0032, z=2.6, term_decimals=9)) == 163_185
        assert round(voters_needed(PERU_N, 0.0032, z=2.6)) != 163_185
        assert round(voters_needed(PERU_N, 0.0032, z=2.58)) != 163_185

    @pytest.mark.parametrize("per_station, expected", [(160, 1019.9), (200, 815.9), (500, 326.4)])
    def test_stations_row4(self, per_station, expected):
        assert stations_needed(163_185, per_station) == pytest.approx(expected, abs=0.05)

    @pytest.mark.parametrize(
        "n, pp95, pp99",
        [(816, 3.43, 4.52), (324, 5.44, 7.17), (163_185, 0.243, 0.319), (1020, 3.07, 4.04)],
    )
    def test_rule_of_thumb_row5(self, n, pp95, pp99):
        assert 100 * rule_of_thumb_moe(n, z=1.96) == pytest.approx(pp95, abs=0.005)
        assert 100 * rule_of_thumb_moe(n, z=2.58) == pytest.approx(pp99, abs=0.005)

    def test_ballots_row6(self):
        got = expected_ballots(1020, 160, 0.70)
        assert got == pytest.approx(114_240)
        assert 163_185 - got == pytest.approx(48_945)

    def test_deff_row7(self):
        assert design_effect(0.02, 400) == pytest.approx(8.98)

    def test_sample_size_chain(self):
        r = sample_size(
            0.01, z=1.96, rho=0.02, registered_per_station=500, turnout=0.6, frame_stations=5000
        )
        n0 = 1.96**2 * 0.25 / 0.01**2
        deff = 1 + (300 - 1) * 0.02
        m = deff * n0 / 300
        assert r.voters_srs == pytest.approx(n0)
        assert r.design_effect == pytest.approx(deff)
        assert r.stations == pytest.approx(m)
        assert r.stations_fpc == pytest.approx(m / (1 + m / 5000))
        assert r.stations_to_draw == int(np.ceil(m / (1 + m / 5000)))
        assert "design effect" in r.summary().as_text()

    def test_without_turnout_is_noted(self):
        r = sample_size(0.02, registered_per_station=800)
        assert any("registered voters" in n for n in r.notes)

    @pytest.mark.parametrize(
        "kw", [{"margin": 0}, {"margin": 1.5}, {"margin": 0.01, "confidence": 1.2}]
    )
    def test_bad_parameters(self, kw):
        with pytest.raises(ValueError, match=r"\(.*\) must be in the interval"):
            sample_size(**{"voters_per_station": 300, **kw})


class TestIntraclassCorrelation:
    def test_recovers_known_rho(self):
        # stations with a beta-distributed share: rho = 1/(a + b + 1) for Beta(a, b) cluster means
        rng = np.random.default_rng(5)
        from pollwatch.model import Election

        p = rng.beta(9, 9, 3000)  # rho = 1/19
        valid = np.full(3000, 400)
        a = rng.binomial(valid, p)
        e = Election.from_arrays(
            registered=valid + 100,
            valid=valid,
            invalid=np.zeros(3000, int),
            votes={"A": a, "B": valid - a},
        )
        assert intraclass_correlation(e, "A") == pytest.approx(1 / 19, rel=0.1)

    def test_sample_size_uses_past_results(self):
        e = simulate_frame(3, stations=800)
        r = sample_size(0.02, past=e, turnout=0.6)
        assert r.rho_source.startswith("past")
        assert 0 < r.rho < 0.5
        assert r.frame_stations == 800


class TestAllocate:
    def test_proportional_sums_and_minimum(self):
        out = allocate([10, 3, 100, 1], 20)
        assert out.sum() == 20 and (out >= [2, 2, 2, 1]).all() and (out <= [10, 3, 100, 1]).all()

    def test_neyman_follows_scores(self):
        out = allocate([100, 100], 40, scores=[100 * 1.0, 100 * 3.0])
        assert out.tolist() == [10, 30]

    def test_too_small(self):
        with pytest.raises(ValueError, match=r"size \(3\) must be in the interval \[4, 20\]"):
            allocate([10, 10], 3)


class TestDrawSample:
    def test_reproducible_and_weights(self, tmp_path):
        e = simulate_frame(2, stations=1000)
        a = draw_sample(e, 100, strata="region", seed=7)
        b = draw_sample(e, 100, strata="region", seed=7)
        c = draw_sample(e, 100, strata="region", seed=8)
        assert a.table.equals(b.table) and not a.table.equals(c.table)
        assert a.table.height == 100 and a.table["station_id"].n_unique() == 100
        # weights sum to the frame size within each stratum, and π = 1/weight
        per = a.table.group_by("stratum").agg(pl.col("weight").sum())
        sizes = {s.name: s.frame_stations for s in a.strata}
        for name, w in per.iter_rows():
            assert w == pytest.approx(sizes[name])
        assert np.allclose(a.table["inclusion_probability"] * a.table["weight"], 1)
        assert a.seed == 7
        a.write(tmp_path / "s.csv")
        back = pl.read_csv(tmp_path / "s.csv")
        assert back.columns == [
            "station_id",
            "region",
            "registered",
            "stratum",
            "weight",
            "inclusion_probability",
        ]
        a.write(tmp_path / "s.parquet")
        assert pl.read_parquet(tmp_path / "s.parquet").height == 100

    def test_two_columns_and_neyman(self):
        e = simulate_frame(2, stations=1000)
        d = draw_sample(e, 120, strata=["region", "urban"], allocation="neyman", seed=1)
        assert all(s.sampled >= min(2, s.frame_stations) for s in d.strata)
        assert " | " in d.strata[0].name
        assert sum(s.sampled for s in d.strata) == 120

    def test_bad_strata_and_allocation(self):
        e = simulate_frame(2, stations=200)
        with pytest.raises(ValueError, match="strata"):
            draw_sample(e, 20, strata="nope", seed=1)
        with pytest.raises(ValueError, match="allocation"):
            draw_sample(e, 20, allocation="equal", seed=1)  # type: ignore[arg-type]


def test_registered_allocation_and_dataframe_input():
    from pollwatch.quickcount import estimate

    e = simulate_frame(4, stations=800, regions=4)
    d = draw_sample(e, 80, strata="region", allocation="registered", seed=1)
    reg = e.table.group_by("region").agg(pl.col("registered").sum())
    share = dict(zip(reg["region"], reg["registered"] / reg["registered"].sum(), strict=True))
    for s in d.strata:
        assert abs(s.sampled - 80 * share[s.name]) <= 1
    t = e.table.join(d.table.select("station_id"), on="station_id").select(
        "station_id", "registered", "valid", "invalid", *[c.id for c in e.candidates]
    )
    assert estimate(t, e, strata="region").n_reported == 80
