"""A small seeded calibration run: the decision rules hold their level on clean elections and
see the fraud they target; the permutation test and the critical-value fit are checked on
their own. The full table is benchmarks/calibration.py (docs/calibration.md)."""

import numpy as np
import pytest

from pollwatch.calibration import (
    CRITICAL_VALUES,
    Cell,
    accuracy_table,
    calibrate,
    critical_values_from,
    decide,
    format_table,
    shpilkin_permutation_test,
)
from pollwatch.simulate import ElectorateConfig, FraudConfig, Stuffing, simulate_election


@pytest.fixture(scope="module")
def table():
    return calibrate(
        n_elections=12,
        n_stations=(5_000, 8_000),
        methods=["integer_percentages", "digits", "shpilkin"],
        scenarios=["clean", "rounding 3 %", "stuffing 15 %"],
        seed=3,
    )


def test_fast_rules_hold_level_on_clean(table):
    for m in ("integer_percentages", "digits", "shpilkin"):
        clean = table[("clean", m)]
        assert clean.runs == 12 and clean.errors == 0, m
        assert clean.signals <= 2, m  # nominal 5 %: 3+ of 12 has probability < 0.02


def test_integer_rule_sees_rounding(table):
    assert table[("rounding 3 %", "integer_percentages")].signals >= 11


def test_shpilkin_sees_stuffing_and_tracks_it(table):
    c = table[("stuffing 15 %", "shpilkin")]
    assert c.signals >= 11
    ratio = np.asarray(c.estimates) / np.asarray(c.truth)  # the region-stratified estimate
    assert 0.9 < np.median(ratio) < 1.1
    national = np.array([x["national"] for x in c.extra]) / np.asarray(c.truth)
    assert np.percentile(np.abs(ratio - 1), 75) < np.percentile(np.abs(national - 1), 75)


def test_scenario_elections_do_not_depend_on_the_scenario_list(table):
    alone = calibrate(
        n_elections=12,
        n_stations=(5_000, 8_000),
        methods=["integer_percentages"],
        scenarios=["stuffing 15 %"],
        seed=3,
    )
    a, b = (
        alone[("stuffing 15 %", "integer_percentages")],
        table[("stuffing 15 %", "integer_percentages")],
    )
    assert a.cast == b.cast and a.estimates == b.estimates


def test_tables_render(table):
    assert "| clean |" in format_table(table)
    acc = accuracy_table(table)
    assert "| stuffing 15 % | shpilkin | by region (primary) |" in acc and "| national |" in acc


def _sim(fraud=None, seed=11):
    cfg = ElectorateConfig(n_stations=6_000, n_regions=8, n_constituencies=60)
    return simulate_election(6_000, seed=seed, fraud=fraud, electorate=cfg).election


def test_permutation_test_separates_clean_from_stuffed():
    stuffed = shpilkin_permutation_test(
        _sim(FraudConfig(stuffing=Stuffing(0.15))), n_perm=99, seed=1
    )
    assert stuffed.pvalue == pytest.approx(0.01)  # observed beyond every permutation
    clean = shpilkin_permutation_test(_sim(), n_perm=99, seed=1)
    assert clean.null.shape == (99,) and 0.01 <= clean.pvalue <= 1
    assert clean.excess < stuffed.excess
    # seeded: the same seed gives the same null
    again = shpilkin_permutation_test(_sim(), n_perm=99, seed=1)
    np.testing.assert_array_equal(clean.null, again.null)


def test_permutation_test_rejects_bad_parameters():
    e = _sim()
    with pytest.raises(ValueError, match="n_perm"):
        shpilkin_permutation_test(e, n_perm=0)
    with pytest.raises(ValueError, match="level"):
        shpilkin_permutation_test(e, level="district")


def test_critical_values_are_upper_quantiles():
    rng = np.random.default_rng(0)
    z = rng.normal(size=400)
    cell = Cell(runs=400, stats=[{"integer_z": v} for v in z], pvalues=[None] * 400)
    crit = critical_values_from({("clean", "integer_percentages"): cell}, alpha=0.05)
    assert crit["integer_z"] == pytest.approx(np.quantile(z, 0.95, method="higher"))
    cell.redecide(0.05, crit)
    assert cell.signals == int(np.sum(z > crit["integer_z"]))  # 5 % of 400, ties excluded
    assert 15 <= cell.signals <= 20


def test_decide_rules():
    assert decide({"x": 1.0}, 0.01) and not decide({"x": 1.0}, 0.2)
    assert decide({"a": 2.0, "b": 0.0}, None, critical={"a": 1.0, "b": 1.0})
    assert not decide({"a": 0.5, "b": 0.0}, None, critical={"a": 1.0, "b": 1.0})
    with pytest.raises(ValueError, match="no critical value"):
        decide({"unknown_stat": 1.0}, None)
    if CRITICAL_VALUES:
        with pytest.raises(ValueError, match="alpha"):
            decide({"integer_z": 0.0}, None, alpha=0.1)


def test_bad_calibrate_parameters():
    with pytest.raises(ValueError, match="n_elections"):
        calibrate(n_elections=0)
    with pytest.raises(ValueError, match="methods"):
        calibrate(n_elections=1, methods=["tea_leaves"])


def test_klimek_recovery_with_median_peaks():
    # the small version of benchmarks/calibration.py --klimek --tau median (docs/calibration.md)
    from pollwatch.calibration import klimek_recovery

    rows = klimek_recovery(((0.05, 0.0),), n_reps=2, n_stations=10_000, peak_estimator="median")
    assert rows[0]["reps_within"] == 2 and abs(rows[0]["f_i_hat"] - 0.05) <= 0.05


@pytest.fixture(scope="module")
def mixture_table():
    return calibrate(
        n_elections=12,
        n_stations=(5_000, 8_000),
        methods=["mixture"],
        scenarios=["clean", "stuffing 15 %"],
        seed=3,
    )


def test_mixture_holds_level_and_tracks_stuffing(mixture_table):
    # a fit that reaches spurious "fraud" optima on clean data (a start at 70 % of stations in
    # the fraud classes did, docs/calibration.md) raises the typical clean estimate from ~0 to
    # a few tenths of a percent of ballots and signals far more often than 5 %
    clean = mixture_table[("clean", "mixture")]
    assert clean.runs == 12 and clean.errors == 0
    shares = np.array([s["mixture_manufactured_share"] for s in clean.stats])
    assert np.median(shares) < 0.0005
    assert clean.signals <= 2
    stuffed = mixture_table[("stuffing 15 %", "mixture")]
    assert stuffed.signals == 12
    ratio = np.asarray(stuffed.estimates) / np.asarray(stuffed.truth)
    assert 0.9 < np.median(ratio) < 1.1
