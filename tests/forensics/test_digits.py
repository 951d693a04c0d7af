"""Digit tests: exact digit extraction, reference numbers (docs/methods/reference-numbers.md §6), nulls."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pollwatch.errors import SmallSampleWarning
from pollwatch.forensics.digits import BENFORD_2BL, digit_tests, last_digits, second_digits
from pollwatch.model import Election


class TestDigitExtraction:
    def test_second_digit_matches_string_digits(self):
        rng = np.random.default_rng(0)
        x = np.concatenate(
            [10 ** np.arange(1, 18), 10 ** np.arange(2, 18) - 1, rng.integers(10, 10**15, 20_000)]
        )
        expected = np.array([int(str(v)[1]) for v in x])
        np.testing.assert_array_equal(second_digits(x), expected)

    def test_rejects_counts_below_ten(self):
        with pytest.raises(ValueError, match="counts >= 10"):
            second_digits(np.array([5, 50]))

    def test_last_digit(self):
        np.testing.assert_array_equal(last_digits(np.array([0, 9, 10, 1235])), [0, 9, 0, 5])

    def test_benford_table(self):
        assert BENFORD_2BL.sum() == pytest.approx(1.0, abs=1e-12)
        assert float(np.arange(10) @ BENFORD_2BL) == pytest.approx(4.1874, abs=1e-4)
        assert BENFORD_2BL[0] == pytest.approx(0.1197, abs=1e-4)


def _election(votes: dict[str, np.ndarray], registered=None, regions=None) -> Election:
    cast = sum(votes.values())
    reg = cast * 2 if registered is None else registered
    return Election.from_arrays(
        registered=reg,
        valid=cast,
        invalid=np.zeros_like(cast),
        votes=votes,
        hierarchy=None if regions is None else {"region": regions},
    )


def _benford_counts(rng, n):
    # log-uniform over several decades follows Benford's law in every digit position
    return np.floor(10 ** rng.uniform(1.5, 4.5, n)).astype(np.int64)


class TestDigitTestsSimulated:
    def test_clean_counts_rarely_flagged(self):
        flagged = 0
        for seed in range(20):
            rng = np.random.default_rng(seed)
            e = _election({"A": _benford_counts(rng, 5000), "B": _benford_counts(rng, 5000)})
            row = digit_tests(e, seed=seed, regions=False).row("A")
            flagged += row.second.flagged
            assert row.second.n == 5000
        assert flagged <= 3

    def test_rounded_counts_flagged(self):
        rng = np.random.default_rng(1)
        a = _benford_counts(rng, 5000)
        a[:1000] = a[:1000] // 5 * 5  # 20 % of stations rounded to a multiple of 5
        e = _election({"A": a, "B": _benford_counts(rng, 5000)})
        row = digit_tests(e, seed=2, regions=False).row("A")
        assert row.c05.flagged and row.c05.value > 0.3
        assert row.last.flagged and row.last.pvalue < 1e-6
        assert not digit_tests(e, seed=2, regions=False).row("B").c05.flagged

    def test_regions_sum_to_national_and_seed_reproducible(self):
        rng = np.random.default_rng(3)
        e = _election(
            {"A": _benford_counts(rng, 3000), "B": _benford_counts(rng, 3000)},
            regions=rng.choice(["N", "S", "E"], 3000),
        )
        r1 = digit_tests(e, seed=7)
        r2 = digit_tests(e, seed=7)
        r3 = digit_tests(e, seed=8)
        assert r1.to_dict() == r2.to_dict()
        assert r1.row("A").second.value == r3.row("A").second.value
        assert r1.row("A").second.ci != r3.row("A").second.ci
        reg = [r for r in r1.regional if r.variable == "cand_00"]
        assert {r.scope for r in reg} == {"N", "S", "E"}
        np.testing.assert_array_equal(
            np.sum([r.second.counts for r in reg], axis=0), r1.row("A").second.counts
        )
        assert reg[0].second.ci_method == "normal"

    def test_normal_interval_close_to_bootstrap(self):
        rng = np.random.default_rng(4)
        e = _election(
            {"A": _benford_counts(rng, 4000), "B": _benford_counts(rng, 4000)},
            regions=np.repeat(["N"], 4000),
        )
        r = digit_tests(e, seed=1, regional_bootstrap=True)
        boot, norm = r.row("A").second.ci, digit_tests(e, seed=1).regional[0].second.ci
        assert r.regional_interval == "bootstrap"
        assert boot.low == pytest.approx(norm.low, abs=0.02)
        assert boot.high == pytest.approx(norm.high, abs=0.02)

    def test_small_sample_warns_and_notes(self):
        e = _election({"A": np.array([12, 30, 5]), "B": np.array([40, 3, 7])})
        with pytest.warns(SmallSampleWarning, match="unreliable"):
            r = digit_tests(e, seed=0)
        assert any("unreliable" in n for n in r.notes)
        assert "weak evidence" in r.summary().as_text()

    @pytest.mark.parametrize(
        "kw, match",
        [
            ({"min_count": 5}, r"min_count \(5\) must be in the interval \[10, inf\]"),
            ({"n_boot": 0}, r"n_boot \(0\)"),
            ({"level": 1.0}, r"level \(1.0\) must be in the interval \(0, 1\)"),
            ({"regions": False, "region_level": "region"}, r"region_level \('region'\)"),
        ],
    )
    def test_bad_parameters(self, small_election, kw, match):
        with pytest.raises(ValueError, match=match):
            digit_tests(small_election, **kw)


# docs/methods/reference-numbers.md §6 ("ours"): (variable, n, 2BL mean, 2BL chi2, last mean, last chi2,
# C05s, last chi2 at counts >= 100, n at >= 100)
REF_2011 = [
    ("ЕДИНАЯ РОССИЯ", 94632, 4.237, 35.0, 4.477, 14.0, 0.2018, 23.1, 76887),
    ("ballots_cast", 95155, 3.916, 880.5, 4.449, 124.4, 0.2114, 122.9, 87916),
    ("СПРАВЕДЛИВАЯ РОССИЯ", 79217, 4.108, 65.0, 4.352, 214.1, 0.2088, 43.2, 35739),
    ("Либерально", 79586, 4.064, 181.5, 4.364, 187.7, 0.2072, 53.8, 33725),
    ("ПАТРИОТЫ", 25952, 3.556, 1260.8, 3.559, 2824.2, 0.2480, 6.7, 27),
    ("Коммунист", 86338, 4.189, 20.6, 4.378, 181.8, 0.2091, 58.8, 46439),
    ("ЯБЛОКО", 41514, 4.049, 108.0, 4.208, 446.5, 0.2155, 28.5, 5133),
    ("ПРАВОЕ ДЕЛО", 12983, 3.015, 2227.4, 3.018, 3654.7, 0.2852, 4.3, 15),
]
REF_2012 = [
    ("Путин", 94937, 4.206, 67.5, 4.478, 16.4, 0.2029, 23.8, 83047),
    ("ballots_cast", 95351, 3.958, 1004.4, 4.471, 54.9, 0.2077, 60.8, 88335),
    ("Жириновский", 74808, 3.960, 608.8, 4.323, 296.8, 0.2105, 132.5, 11507),
    ("Зюганов", 86742, 4.193, 13.7, 4.386, 150.6, 0.2084, 36.7, 47090),
    ("Миронов", 60290, 4.127, 52.6, 4.216, 600.9, 0.2130, 61.2, 1899),
    ("Прохоров", 63895, 4.001, 275.5, 4.264, 453.6, 0.2154, 43.2, 21097),
]
# bootstrap intervals (±0.005): variable -> (2BL CI, last CI)
REF_CI = {
    2011: {
        "ЕДИНАЯ РОССИЯ": ((4.219, 4.255), (4.458, 4.494)),
        "ballots_cast": ((3.900, 3.934), None),
    },
    2012: {"Путин": ((4.187, 4.224), (4.460, 4.497)), "ballots_cast": ((3.938, 3.974), None)},
}
# winner: P05s share [CI], P05s turnout [CI], skewness, kurtosis
REF_WINNER = {
    2011: (0.2116, (0.209, 0.214), 0.2342, (0.232, 0.237), 0.631, 2.556),
    2012: (0.2118, (0.209, 0.214), 0.2313, (0.229, 0.234), 0.445, 3.067),
}


def _find(result, key):
    if key == "ballots_cast":
        return result.row("ballots_cast")
    hits = [r for r in result.rows if key in r.label]
    assert len(hits) == 1, key
    return hits[0]


@pytest.fixture(scope="module")
def results(request):
    out = {}
    for year in (2011, 2012):
        e = request.getfixturevalue(f"ru{year}")
        out[year] = digit_tests(e, seed=20111204)
    return out


@pytest.mark.realdata
@pytest.mark.parametrize(
    "year, ref",
    [(2011, r) for r in REF_2011] + [(2012, r) for r in REF_2012],
    ids=lambda v: str(v[0]) if isinstance(v, tuple) else str(v),
)
def test_reference_rows(results, year, ref):
    key, n, m2, chi2, ml, chil, c05, chih, nh = ref
    row = _find(results[year], key)
    assert row.second.n == n and row.last.n == n and row.last_high.n == nh
    assert row.second.value == pytest.approx(m2, abs=0.0006)
    assert row.second.chi2 == pytest.approx(chi2, rel=0.01, abs=0.06)
    assert row.last.value == pytest.approx(ml, abs=0.0006)
    assert row.last.chi2 == pytest.approx(chil, rel=0.01, abs=0.06)
    assert row.c05.value == pytest.approx(c05, abs=0.00006)
    assert row.last_high.chi2 == pytest.approx(chih, rel=0.01, abs=0.06)
    # only the intervals are random: they must bracket the estimate with a sensible width
    assert row.second.ci.low < row.second.value < row.second.ci.high
    assert row.second.flagged == (not row.second.ci.low <= 4.18739 <= row.second.ci.high)


@pytest.mark.realdata
@pytest.mark.parametrize("year", [2011, 2012])
def test_reference_intervals_and_winner(results, year):
    r = results[year]
    for key, (ci2, cil) in REF_CI[year].items():
        row = _find(r, key)
        assert row.second.ci.low == pytest.approx(ci2[0], abs=0.005)
        assert row.second.ci.high == pytest.approx(ci2[1], abs=0.005)
        if cil:
            assert row.last.ci.low == pytest.approx(cil[0], abs=0.005)
            assert row.last.ci.high == pytest.approx(cil[1], abs=0.005)
    p05s, p05s_ci, p05t, p05t_ci, skew, kurt = REF_WINNER[year]
    assert r.p05_share.value == pytest.approx(p05s, abs=0.0006)
    assert r.p05_share.ci.low == pytest.approx(p05s_ci[0], abs=0.005)
    assert r.p05_share.ci.high == pytest.approx(p05s_ci[1], abs=0.005)
    assert r.p05_turnout.value == pytest.approx(p05t, abs=0.0006)
    assert r.p05_turnout.ci.low == pytest.approx(p05t_ci[0], abs=0.005)
    assert r.p05_turnout.ci.high == pytest.approx(p05t_ci[1], abs=0.005)
    assert r.skewness == pytest.approx(skew, abs=0.005)
    assert r.kurtosis == pytest.approx(kurt, abs=0.005)


@pytest.mark.realdata
def test_real_data_regions_and_export(results, ru2011):
    r = results[2011]
    codes, labels = ru2011.level_codes("region")
    assert len(r.regional) == len(labels) * (len(ru2011.candidates) + 1)
    ur = [x for x in r.regional if x.variable == r.scrutiny]
    assert sum(x.second.n for x in ur) == r.row(r.scrutiny).second.n
    d = r.to_dict()
    json.dumps(d)
    text = r.summary().as_text()
    assert "Deckert" in text and "coin toss" in text
    assert math.isfinite(d["skewness"])
