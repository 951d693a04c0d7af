"""The station-signal contract (issue 23): every forensic method's result provides its
per-station signals, its results.json entry and its parameters through
:class:`pollwatch.results.MethodResult`, and results.json keeps the keys its readers use."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from pollwatch.forensics.carousel import CarouselResult
from pollwatch.forensics.coarse import CoarseSharesResult, SmallDenominatorResult
from pollwatch.forensics.digits import DigitsResult
from pollwatch.forensics.excess_bounds import ExcessBounds
from pollwatch.forensics.fingerprint import DistributionsResult, RegressionResult
from pollwatch.forensics.integers import IntegerTestResult
from pollwatch.forensics.klimek import KlimekResult
from pollwatch.forensics.mixture import MixtureResult
from pollwatch.forensics.run import METHODS, analyze
from pollwatch.forensics.shpilkin import ShpilkinResult
from pollwatch.forensics.shpilkin_permutation import PermutationTest
from pollwatch.model import Election
from pollwatch.results import MethodResult, Skipped, StationSignal, station_signals_of
from pollwatch.simulate import FraudConfig, Rounding, Stuffing, simulate_election

RESULT_CLASSES = (
    DistributionsResult,
    RegressionResult,
    IntegerTestResult,
    DigitsResult,
    ShpilkinResult,
    PermutationTest,
    KlimekResult,
    CoarseSharesResult,
    SmallDenominatorResult,
    MixtureResult,
    ExcessBounds,
    CarouselResult,
    Skipped,
)

#: the keys of each method's entry in results.json, as run.py's ``_extract_*`` functions wrote
#: them before the contract (the report, the strength rule, fusion and the demo read these)
JSON_KEYS_BEFORE = {
    "correlation": {
        "pearson",
        "variants",
        "basis",
        "stations_high_high",
        "share_high_high",
        "share_turnout_high",
        "share_leader_high",
    },
    "regression": {
        "leader_slope",
        "others_slope",
        "invalid_slope",
        "sum_slopes",
        "leader_slope_weighted",
        "sobyanin_statistic",
        "slopes",
    },
    "integer_percentages": {
        "excess",
        "p_value",
        "z",
        "observed",
        "expected",
        "sd",
        "excess_leader",
        "excess_turnout",
        "excess_registered",
        "included",
        "basis",
        "method",
    },
    "digits": {
        "leader_second_digit_mean",
        "leader_second_digit_ci",
        "leader_last_digit_mean",
        "leader_last_digit_ci",
        "leader_c05",
        "leader_last_digit_high_p",
        "leader_last_digit_high_n",
        "p05_share",
        "p05_turnout",
        "flagged",
        "any_flagged",
        "second_digit_rows",
        "last_digit_rows",
        "note",
    },
    "shpilkin": {
        "excess_votes",
        "excess_votes_low",
        "excess_votes_high",
        "clean_share",
        "clean_turnout",
        "official_share",
        "official_turnout",
        "k",
        "kernel_share",
        "mode",
        "peak_found",
        "excess_percent_of_leader",
        "sensitivity",
        "regions",
        "regions_sum",
        "basis",
        "bin_pp",
    },
    "shpilkin_permutation": {"p_value", "excess_votes", "permutations", "level", "null_quantiles"},
    "klimek": {
        "f_i",
        "f_e",
        "alpha",
        "f_i_sd",
        "f_e_sd",
        "alpha_sd",
        "f_i_ci",
        "f_e_ci",
        "alpha_ci",
        "loss",
        "loss_value",
        "no_fraud_loss",
        "realisations",
        "baseline",
    },
    "coarse_shares": {
        "fraud_percent",
        "interval",
        "p_value",
        "flagged_shares",
        "n_flagged",
        "resamples",
    },
    "small_denominators": {"observed", "expected", "sd", "excess", "z", "p_value", "q_max", "null"},
    "mixture": {
        "no_fraud",
        "incremental",
        "extreme",
        "weights",
        "weights_ci",
        "fraudulent_votes",
        "fraudulent_votes_low",
        "fraudulent_votes_high",
        "manufactured_votes",
        "stolen_votes",
        "converged",
    },
    "mixture_by_region": {
        "level",
        "manufactured_votes",
        "fraudulent_votes",
        "incremental",
        "extreme",
        "units",
        "interval",
        "manufactured_interval",
        "bootstrap_replicates",
        "converged",
        "note",
    },
    "regional_excess_bounds": {
        "flat",
        "trend",
        "permutations",
        "bootstrap_replicates",
        "confidence_level",
        "units",
        "n_units",
        "note",
    },
    "carousel": {
        "stations_flagged",
        "shares",
        "correlation_with_leader",
        "cards_used",
        "cards_issued",
        "constituencies_cards_over",
        "boxes_gt_issued",
    },
}


@pytest.fixture(scope="module")
def analysis():
    sim = simulate_election(
        600,
        seed=5,
        layout="russia",
        fraud=FraudConfig(stuffing=Stuffing(0.1), rounding=Rounding(0.03)),
    )
    return analyze(sim.election, seed=1, parallel=False)


@pytest.mark.parametrize("cls", RESULT_CLASSES, ids=lambda c: c.__name__)
def test_every_result_class_declares_the_contract(cls):
    assert issubclass(cls, MethodResult)


def test_every_method_result_satisfies_the_contract(analysis):
    e = analysis.election
    assert not analysis.errors, analysis.errors
    assert set(analysis.results) == set(METHODS)
    for name, res in analysis.results.items():
        assert isinstance(res, MethodResult), name
        signals = res.station_signals(e)
        for key, sig in signals.items():
            assert isinstance(sig, StationSignal) and sig.name == key, (name, key)
            assert sig.values.shape == (e.n_stations,), (name, key)
            if sig.kind == "flag":
                assert sig.values.dtype == bool, (name, key)
            if sig.unit == "probability":
                v = sig.values[np.isfinite(sig.values)]
                assert ((v >= 0) & (v <= 1)).all(), (name, key)  # fractions, never percent
        assert set(station_signals_of(res, e, name)) == set(signals)
        json.dumps(res.to_json())
        json.dumps(res.parameters())
        assert res.to_json() == analysis.extracted[name], name


def test_station_signals_feed_the_scores(analysis):
    e, res = analysis.election, analysis.results
    tab = analysis.scores.table
    np.testing.assert_array_equal(tab["integer"].to_numpy(), res["integer_percentages"].flag_either)
    np.testing.assert_array_equal(tab["above_peak"].to_numpy(), res["shpilkin"].above_peak)
    np.testing.assert_array_equal(tab["carousel"].to_numpy(), res["carousel"].flag)
    np.testing.assert_array_equal(
        tab["mixture_posterior"].to_numpy(), res["mixture"].posterior_fraud
    )
    assert set(res["mixture"].station_signals(e)) == {"mixture"}
    assert res["regression"].station_signals(e) == {}


def test_results_json_keeps_its_keys(analysis):
    doc = json.loads(json.dumps(analysis.doc, default=str))
    methods = doc["methods"]
    assert list(methods) == [METHODS[m].json_key for m in METHODS]
    for key, expected in JSON_KEYS_BEFORE.items():
        assert set(methods[key]) == expected, key
    assert set(doc["parameters"]) == set(METHODS)
    # parameters are the method's own choices, not estimates (Shpilkin's k is a result)
    assert "k" not in doc["parameters"]["shpilkin"]
    assert doc["parameters"]["shpilkin"]["bin_pp"] == 1.0
    assert doc["parameters"]["klimek"]["n_realisations"] == 10


def test_values_match_the_results(analysis):
    m, r = analysis.doc["methods"], analysis.results
    assert m["shpilkin"]["excess_votes"] == r["shpilkin"].excess
    assert m["shpilkin"]["mode"] == r["shpilkin"].mode_pct  # percent, as before
    assert m["mixture_by_region"]["level"] == r["mixture_by_region"].strata
    assert m["mixture"]["no_fraud"] == r["mixture"].pi["no_fraud"]
    p = m["correlation"]["pearson"]
    assert p is None or not math.isnan(p)


def test_skipped_method_without_hierarchy():
    n = 200
    rng = np.random.default_rng(0)
    reg = np.full(n, 1000)
    valid = rng.integers(400, 700, n)
    lead = (valid * rng.uniform(0.4, 0.6, n)).astype(int)
    e = Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=np.full(n, 5),
        votes={"A": lead, "B": valid - lead},
    )
    a = analyze(e, methods=["mixture_by_region"], parallel=False)
    res = a.results["mixture_by_region"]
    assert isinstance(res, Skipped) and isinstance(res, MethodResult)
    assert a.doc["methods"]["mixture_by_region"] == {
        "skipped": "the election has no hierarchy to stratify by"
    }
    assert a.doc["parameters"]["mixture_by_region"] == {}
    rule = a.doc["headline"]
    assert "no result" in json.dumps(rule)  # the headline reads it as before: no result


def test_analysis_fails_loudly_on_a_result_without_the_contract():
    from pollwatch.forensics.run import MethodSpec

    spec = MethodSpec("bare", lambda e, ctx: object(), "bare")
    with pytest.raises(TypeError, match=r"'bare' \(object\) does not implement"):
        spec.extract(object())
