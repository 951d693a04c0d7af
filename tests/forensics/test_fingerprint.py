"""Fingerprint histograms, correlation variants and the turnout–share regression."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.errors import DegenerateDataWarning
from pollwatch.forensics.fingerprint import (
    distributions,
    pearson,
    turnout_share_regression,
    weighted_slope,
)
from pollwatch.model import Election


def _election(n=4000, seed=0, stuffed=0):
    rng = np.random.default_rng(seed)
    V = rng.integers(150, 2500, n)
    cast = rng.binomial(V, np.clip(rng.normal(0.55, 0.08, n), 0.05, 0.95))
    a = rng.binomial(cast, 0.45)
    b = rng.binomial(cast - a, 0.5)
    inv = rng.binomial(cast - a - b, 0.05)
    c = cast - a - b - inv
    if stuffed:
        idx = rng.choice(n, stuffed, replace=False)
        a[idx], b[idx], c[idx], inv[idx] = V[idx], 0, 0, 0  # stuffed to 100 % for A
    valid = a + b + c
    return Election.from_arrays(
        registered=V,
        valid=valid,
        invalid=inv,
        votes={"A": a, "B": b, "C": c},
        hierarchy={"region": np.array(["X", "Y"])[np.arange(n) % 2]},
        fields={"ballots_issued_station": valid + inv},
    ).with_scrutiny("A")


class TestHelpers:
    def test_pearson_and_slope_match_numpy(self):
        rng = np.random.default_rng(1)
        x, y = rng.normal(size=500), rng.normal(size=500)
        y += 0.5 * x
        assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
        assert weighted_slope(x, y) == pytest.approx(np.polyfit(x, y, 1)[0])
        w = rng.integers(1, 4, 500)
        # integer weights = repeated rows
        assert pearson(x, y, w) == pytest.approx(
            np.corrcoef(np.repeat(x, w), np.repeat(y, w))[0, 1]
        )
        assert np.isnan(pearson(np.ones(5), y[:5]))


class TestDistributions:
    def test_histograms_are_consistent(self):
        e = _election()
        r = distributions(e)
        assert r.hist2d.shape == (101, 101) and r.edges[0] == -0.5 and r.edges[-1] == 100.5
        assert r.hist2d.sum() == r.n_histogram == r.turnout_hist.sum() == r.share_hist.sum()
        np.testing.assert_array_equal(r.hist2d.sum(axis=1), r.turnout_hist)
        assert r.turnout_fine.size == 1001 and r.turnout_fine.sum() == r.n_histogram
        t = 100 * e.ballots_issued() / e.field("registered")
        assert r.centres[np.argmax(r.turnout_hist)] == pytest.approx(np.median(t), abs=6)
        half = distributions(e, bin_pp=0.5, weights="registered")
        assert half.hist2d.shape == (201, 201)
        assert half.hist2d.sum() == pytest.approx(e.field("registered").sum())
        assert "flagged" not in r.to_dict() and "hist2d" not in r.to_dict()

    def test_stuffing_raises_correlation_and_high_high(self):
        clean, stuffed = distributions(_election()), distributions(_election(stuffed=300))
        assert stuffed.correlations["all"] > clean.correlations["all"] + 0.1
        assert stuffed.n_high_high >= 250 > clean.n_high_high
        assert "correlation" in stuffed.summary().as_text()

    def test_bad_parameters(self):
        e = _election(n=50)
        with pytest.raises(ValueError, match=r"bin_pp \(0\) must be in the interval"):
            distributions(e, bin_pp=0)
        with pytest.raises(ValueError, match=r"weights \('votes'\) not recognised"):
            distributions(e, weights="votes")
        with pytest.raises(ValueError, match="one value per station"):
            distributions(e, weights=np.ones(3))

    def test_constant_turnout_warns(self):
        V = np.full(20, 1000)
        e = Election.from_arrays(
            registered=V,
            valid=np.full(20, 500),
            invalid=np.zeros(20, int),
            votes={"A": np.arange(20) + 200, "B": 300 - np.arange(20)},
            hierarchy={"region": np.array(["X"] * 20)},
        )
        with pytest.warns(DegenerateDataWarning):
            r = distributions(e, basis="cast")
        assert np.isnan(r.correlations["all"]) and r.notes


class TestRegression:
    def test_slopes_sum_to_one_and_match_polyfit(self):
        e = _election(stuffed=200)
        r = turnout_share_regression(e)
        assert r.sum_slopes == pytest.approx(1.0, abs=1e-9)
        V, R = e.field("registered"), e.ballots_cast()
        assert r.leader_slope == pytest.approx(np.polyfit(R / V, e.votes("A") / V, 1)[0])
        assert r.leader_slope > 1 > r.leader_share  # stuffing signature
        assert r.others_slope < 0
        assert "Sobyanin" in r.summary().as_text()


REF2 = {
    2011: dict(r=(0.713, 0.743, 0.748, 0.747, 0.714), hh=3089, pct=(3.24, 10.27, 4.08)),
    2012: dict(r=(0.577, 0.615, 0.628, 0.619, 0.578), hh=3116, pct=(3.27, 9.01, 4.26)),
}
REF8 = {2011: (0.311, 1.134, -0.137, 0.003, 1.168), 2012: (-0.121, 1.103, -0.103, 0.000, 1.142)}


@pytest.fixture(params=[2011, 2012])
def ru(request):
    return request.param, request.getfixturevalue(f"ru{request.param}")


@pytest.mark.realdata
class TestReferenceNumbers:
    def test_correlations_and_high_high(self, ru):
        year, e = ru
        r = distributions(e)  # t = G/V, stations with V > 0 and R > 0
        ref = REF2[year]
        got = [r.correlations[k] for k in ("all", "g_lt_v", "v_ge_100", "weighted_v", "min_rv_1")]
        np.testing.assert_allclose(got, ref["r"], atol=0.001)
        assert r.n_high_high == ref["hh"]
        np.testing.assert_allclose(
            [100 * r.frac_high_high, 100 * r.frac_turnout_high, 100 * r.frac_share_high],
            ref["pct"],
            atol=0.005,
        )

    def test_regression(self, ru):
        year, e = ru
        r = turnout_share_regression(e)
        got = (
            r.eftoolkit_sobyanin,
            r.leader_slope,
            r.others_slope,
            r.invalid_slope,
            r.leader_slope_weighted,
        )
        np.testing.assert_allclose(got, REF8[year], atol=0.005)
        assert r.sum_slopes == pytest.approx(1.0, abs=1e-9)
