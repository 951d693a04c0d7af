"""Integer-percentage test: exact null against brute force, Monte Carlo, reference numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from pollwatch.errors import SmallSampleWarning
from pollwatch.forensics.integers import (
    expected_by_percent,
    integer_flags,
    integer_probability,
    integer_test,
)
from pollwatch.model import Election


def _brute_probability(x: int, n: int, window: float = 0.05) -> float:
    k = np.arange(n + 1)
    return float(stats.binom.pmf(k, n, x / n)[integer_flags(k, np.full(k.size, n), window)].sum())


def _synthetic(n: int = 3000, seed: int = 0, rounded: int = 0) -> Election:
    """Clean binomial stations; ``rounded`` of them get leader votes set to a whole percent."""
    rng = np.random.default_rng(seed)
    registered = rng.integers(500, 3000, n)
    cast = rng.binomial(registered, rng.uniform(0.4, 0.8, n))
    leader = rng.binomial(cast, rng.uniform(0.3, 0.7, n))
    if rounded:
        idx = rng.choice(n, rounded, replace=False)
        pct = np.round(100 * leader[idx] / cast[idx])
        # cast divisible by 100 so the rounded share is exact
        cast[idx] = (cast[idx] // 100) * 100 + 100
        leader[idx] = (pct * cast[idx] / 100).astype(np.int64)
    invalid = np.zeros(n, dtype=np.int64)
    return Election.from_arrays(
        registered=registered,
        valid=cast,
        invalid=invalid,
        votes={"Leader": leader, "Other": cast - leader},
        hierarchy={"region": np.array(["A", "B"])[rng.integers(0, 2, n)]},
        fields={"ballots_issued_station": cast},
    )


class TestFlagsAndProbability:
    def test_boundary_included(self):
        # 1/2000 = 0.05 % exactly: on the boundary, so flagged; 3/2000 = 0.15 % is not
        assert integer_flags(np.array([1, 3, 0, 2000]), np.array([2000] * 4)).tolist() == [
            True,
            False,
            True,
            True,
        ]

    @pytest.mark.parametrize("n", [100, 101, 137, 999, 1000, 2000, 2001, 3333, 20000])
    def test_exact_matches_brute_force(self, n):
        rng = np.random.default_rng(n)
        xs = np.unique(np.concatenate([[0, 1, n // 2, n - 1, n], rng.integers(0, n + 1, 6)]))
        got = integer_probability(xs, np.full(xs.size, n))
        want = np.array([_brute_probability(int(x), n) for x in xs])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)

    def test_expected_by_percent_counts_stations_per_window(self):
        # the variance at each percent is that of a count of stations, Σ P_sj (1 − P_sj), with
        # P_sj the station's whole window mass (not a sum over the window's single counts)
        xs, ns = np.array([1480, 700, 3, 2990]), np.array([3000, 1500, 2500, 3000])
        exp, var = expected_by_percent(xs, ns)
        want_e, want_v = np.zeros(101), np.zeros(101)
        for x, n in zip(xs, ns, strict=True):
            k = np.arange(n + 1)
            pmf = stats.binom.pmf(k, n, x / n)
            pct = 100.0 * k / n
            hit = np.abs(pct - np.round(pct)) <= 0.05
            mass = np.bincount(np.round(pct[hit]).astype(int), weights=pmf[hit], minlength=101)
            want_e += mass
            want_v += mass * (1 - mass)
        np.testing.assert_allclose(exp, want_e, atol=1e-9)
        np.testing.assert_allclose(var, want_v, atol=1e-9)

    def test_window_parameter(self):
        got = integer_probability(np.array([700]), np.array([1500]), window=0.2)
        assert got[0] == pytest.approx(_brute_probability(700, 1500, 0.2), rel=1e-9)


class TestSynthetic:
    def test_clean_data_has_no_excess(self):
        r = integer_test(_synthetic())
        assert abs(r.either.z) < 4
        assert r.either.expected == pytest.approx(
            r.leader.expected
            + r.turnout.expected
            - (r.prob_leader * r.prob_turnout)[r.included].sum()
        )

    def test_planted_round_percentages_are_detected(self):
        r = integer_test(_synthetic(rounded=300))
        assert r.leader.excess > 200
        assert r.leader.z > 8
        assert r.leader.pvalue_refined < 1e-10
        assert r.flag_leader.sum() >= 300
        assert "Integer-percentage" in r.summary().as_text()
        d = r.to_dict()
        assert "flag_leader" not in d and d["statistics"][0]["name"] == "either"

    def test_montecarlo_agrees_with_exact(self):
        e = _synthetic(seed=3)
        ex = integer_test(e)
        mc = integer_test(e, method="montecarlo", n_rep=200, seed=11)
        for a, b in zip(ex.statistics, mc.statistics, strict=True):
            assert abs(a.expected - b.expected) < 4 * a.sd / np.sqrt(200) + 0.5
            assert b.sd == pytest.approx(a.sd, rel=0.2)
        again = integer_test(e, method="montecarlo", n_rep=200, seed=11, chunk_reps=50)
        assert np.array_equal(mc.replicates, again.replicates)
        assert mc.seed == 11 and 1 / 201 <= mc.either.pvalue <= 1

    def test_cast_basis_and_filters(self):
        e = _synthetic(seed=5)
        assert integer_test(e, basis="cast").basis == "cast"
        r = integer_test(e, min_registered=1000, cap=None)
        assert r.n_included == int((e.field("registered") >= 1000).sum())

    @pytest.mark.parametrize(
        ("kw", "msg"),
        [
            ({"window": 0.7}, r"window \(0.7\) must be in the interval \(0, 0.5\)"),
            ({"cap": 1.5}, r"cap \(1.5\) must be in the interval"),
            ({"basis": "voters"}, r"basis \('voters'\) not recognised"),
            ({"method": "bayes"}, r"method \('bayes'\) not recognised"),
            ({"legacy": True}, r"legacy .* needs method='montecarlo'"),
            ({"n_rep": 0, "method": "montecarlo"}, r"n_rep \(0\)"),
        ],
    )
    def test_bad_parameters(self, kw, msg):
        with pytest.raises(ValueError, match=msg):
            integer_test(_synthetic(n=50), **kw)

    def test_small_sample_warns(self):
        with pytest.warns(SmallSampleWarning):
            r = integer_test(_synthetic(n=10))
        assert r.notes


# docs/methods/reference-numbers.md §3 -------------------------------------------------------------------
REF = {
    2011: dict(
        n=86718,
        S=17803,
        SL=9708,
        ST=9216,
        pub=1003.477,
        exact=1002.6,
        variants={
            "cast": (86771, 17782, 970.5),
            "no_min": (89539, 18450, 918.7),
            "no_cap": (91082, 20666, 842.2),
            "neither": (95224, 22634, 758.4),
        },
    ),
    2012: dict(
        n=87623,
        S=18025,
        SL=9662,
        ST=9476,
        pub=1159.585,
        exact=1161.0,
        variants={
            "cast": (87646, 18017, 1148.4),
            "no_min": (90560, 18719, 1092.4),
            "no_cap": (91114, 20414, 1003.8),
            "neither": (95414, 22471, 935.3),
        },
    ),
}
VARIANT_KW = {
    "cast": {"basis": "cast"},
    "no_min": {"min_registered": 0},
    "no_cap": {"cap": None},
    "neither": {"min_registered": 0, "cap": None},
}


@pytest.fixture(params=[2011, 2012])
def ru(request):
    return request.param, request.getfixturevalue(f"ru{request.param}")


@pytest.mark.realdata
class TestReferenceNumbers:
    def test_exact_null_primary_variant(self, ru):
        year, e = ru
        ref = REF[year]
        r = integer_test(e)  # variant: G/V, V >= 100, caps 0.99, exact null
        assert r.n_included == ref["n"]
        assert (r.either.observed, r.leader.observed, r.turnout.observed) == (
            ref["S"],
            ref["SL"],
            ref["ST"],
        )
        assert r.excess == pytest.approx(ref["exact"], abs=0.1)
        assert r.excess == pytest.approx(ref["pub"], abs=15)
        assert r.either.z == pytest.approx({2011: 8.9, 2012: 10.0}[year], abs=0.3)

    @pytest.mark.parametrize("variant", list(VARIANT_KW))
    def test_filter_variants(self, ru, variant):
        year, e = ru
        n, s, excess = REF[year]["variants"][variant]
        r = integer_test(e, **VARIANT_KW[variant])
        assert (r.n_included, r.either.observed) == (n, s)
        assert r.excess == pytest.approx(excess, abs=15)

    @pytest.mark.slow
    def test_legacy_stream_reproduces_published(self, ru):
        year, e = ru
        r = integer_test(e, method="montecarlo", legacy=True)  # variant: RandomState(42)
        pub = {
            2011: (1003.477, 767.136, 449.325, 16799.523, 113.1, 346.5, 1591129),
            2012: (1159.585, 734.556, 634.567, 16865.415, 116.3, 354.7, 1743796),
        }[year]
        assert r.either.excess == pytest.approx(pub[0], abs=1e-3)
        assert r.leader.excess == pytest.approx(pub[1], abs=1e-3)
        assert r.turnout.excess == pytest.approx(pub[2], abs=1e-3)
        assert r.either.expected == pytest.approx(pub[3], abs=1e-3)
        assert r.either.sd == pytest.approx(pub[4], rel=0.10)
        assert r.either.band == pytest.approx(pub[5], rel=0.15)
        assert r.either.pvalue == pytest.approx(1 / 1001)
        assert r.excess_registered == pytest.approx(pub[6], rel=0.02)
