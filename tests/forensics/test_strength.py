"""The strength rule applies the calibrated decision rules (pollwatch.forensics.critical)."""

import math

import pytest

from pollwatch.forensics.critical import CRITICAL_VALUES as C
from pollwatch.forensics.strength import assess


def _doc(**methods):
    return {"election": {"ballots_cast": 1_000_000}, "methods": methods, "findings": {}}


FIRING = {
    "integer_percentages": {"z": C["integer_z"] + 0.1},
    "shpilkin_permutation": {"p_value": 0.01},
    "mixture_by_region": {
        "manufactured_votes": (C["mixture_manufactured_share"] + 0.001) * 1_000_000,
        "units": 8,
    },
    "klimek": {"f_i": 0.1, "f_e": C["klimek_f_e"] + 0.001},
    "coarse_shares": {"fraud_percent": C["coarse_fraud_pct"] + 0.1},
}
QUIET = {
    "integer_percentages": {"z": C["integer_z"] - 0.1},
    "shpilkin_permutation": {"p_value": 0.05},  # the rule is strict: p < 0.05
    "mixture_by_region": {
        "manufactured_votes": (C["mixture_manufactured_share"] - 0.001) * 1_000_000,
        "units": 8,
    },
    "klimek": {"f_i": C["klimek_f_i"], "f_e": 0.0},
    "coarse_shares": {"fraud_percent": C["coarse_fraud_pct"]},
}


def test_each_rule_fires_alone_just_above_its_critical_value():
    for name in FIRING:
        st = assess(_doc(**{**QUIET, name: FIRING[name]}))
        assert st.level == "weak" and len(st.signals) == 1, name
        assert st.not_run == ()


@pytest.mark.parametrize(
    ("n", "level"), [(0, "none"), (1, "weak"), (2, "moderate"), (3, "strong"), (5, "strong")]
)
def test_levels_count_the_rules_that_fire(n, level):
    names = list(FIRING)
    st = assess(_doc(**{k: (FIRING[k] if i < n else QUIET[k]) for i, k in enumerate(names)}))
    assert st.level == level and len(st.signals) == n


def test_missing_or_nan_statistics_never_fire_and_are_listed():
    st = assess(_doc(integer_percentages={"z": math.nan}, klimek=FIRING["klimek"]))
    assert st.signals == ("Klimek model",)
    assert set(st.not_run) == {
        "integer percentages",
        "Shpilkin excess votes",
        "finite mixture",
        "coarse vote shares",
    }


def test_a_single_pooled_mixture_fit_is_not_the_calibrated_rule():
    pooled = {**FIRING["mixture_by_region"], "units": 1}
    st = assess(_doc(**{**QUIET, "mixture_by_region": pooled}))
    assert st.signals == () and st.not_run == ("finite mixture",)


def test_arithmetic_findings_or_last_digit_alone_are_weak():
    doc = _doc(**QUIET)
    assert assess(doc).level == "none"
    assert assess({**doc, "findings": {"boxes_gt_issued": 3}}).level == "weak"
    digits = _doc(**QUIET, digits={"leader_last_digit_high_p": 0.01})
    assert assess(digits).level == "weak" and assess(digits).signals == ()


def test_rule_text_quotes_the_critical_values():
    st = assess(_doc())
    assert f"{C['integer_z']:.2f}" in st.rule and "permutation p < 0.05" in st.rule


@pytest.mark.slow
def test_simulated_clean_and_stuffed_elections():
    from pollwatch.forensics.run import analyze
    from pollwatch.simulate import ElectorateConfig, FraudConfig, Stuffing, simulate_election

    def level(fraud, seed):
        cfg = ElectorateConfig(n_stations=8_000, n_regions=8, n_constituencies=80)
        e = simulate_election(8_000, seed=seed, fraud=fraud, electorate=cfg).election
        return assess(
            analyze(
                e,
                seed=1,
                methods=[
                    "integer_percentages",
                    "shpilkin",
                    "shpilkin_test",
                    "mixture_by_region",
                    "klimek",
                    "digits",
                ],
            ).doc
        )

    clean = level(FraudConfig(), 5)
    assert clean.level in ("none", "weak") and "coarse vote shares" in clean.not_run
    stuffed = level(FraudConfig(stuffing=Stuffing(0.3)), 5)
    assert {"Shpilkin excess votes", "finite mixture"} <= set(stuffed.signals)


# -- no data is never evidence (issue 16) ---------------------------------------------------
FIRING_NAMES = (
    "integer percentages",
    "Shpilkin excess votes",
    "finite mixture",
    "Klimek model",
    "coarse vote shares",
)


def test_a_failed_or_skipped_method_never_fires_and_is_not_computed():
    failed = {
        **_doc(**FIRING),
        "errors": {"klimek": "ValueError: boom", "shpilkin_test": "MemoryError"},
    }
    st = assess(failed)
    assert "Klimek model" not in st.signals and "Shpilkin excess votes" not in st.signals
    assert {"Klimek model", "Shpilkin excess votes"} <= set(st.not_run) and len(st.signals) == 3
    skipped = _doc(
        **{
            **FIRING,
            "mixture_by_region": {**FIRING["mixture_by_region"], "skipped": "no hierarchy"},
        }
    )
    assert (
        "finite mixture" in assess(skipped).not_run
        and "finite mixture" not in assess(skipped).signals
    )


def test_no_station_left_for_analysis_is_none_whatever_the_arithmetic_says():
    doc = {
        "election": {
            "stations": 40,
            "ballots_cast": 1_000_000,
            "excluded": {"zero_registered": 40},
        },
        "methods": FIRING,
        "findings": {"turnout_le_100": 12, "candidates_sum_valid": 3},
        "errors": {},
    }
    st = assess(doc)
    assert st.level == "none" and st.signals == () and set(st.not_run) == set(FIRING_NAMES)
    empty = {
        "election": {"stations": 0, "ballots_cast": 0, "excluded": {}},
        "methods": {},
        "findings": {"turnout_le_100": 0},
    }
    assert assess(empty).level == "none"


def test_tiny_election_gives_no_default_p_value_and_lists_what_was_not_computed():
    """20 stations: the permutation test has nothing to test (p NaN, not 1/(n+1) = 0.005),
    and results.json's strength block names every rule that was not computed."""
    import numpy as np

    from pollwatch.forensics.run import analyze
    from pollwatch.forensics.shpilkin_permutation import shpilkin_permutation_test
    from pollwatch.simulate import simulate_election

    e = simulate_election(300, seed=4).election
    tiny = e.subset(np.arange(e.n_stations) < 20)
    r = shpilkin_permutation_test(tiny, level=None)
    assert math.isnan(r.pvalue) and "fewer than 50" in r.note
    doc = analyze(tiny, methods=["integer_percentages", "shpilkin_test", "klimek"]).doc
    for key in ("shpilkin_permutation", "integer_percentages"):  # too few stations: no p-value
        p = doc["methods"][key]["p_value"]
        assert p is None or math.isnan(p), key
    strength = doc["strength"]
    # the Klimek fit on 20 stations reads f_e far above its critical value: below the method's
    # own 1,000-station limit the rule is not computed
    assert doc["methods"]["klimek"]["f_e"] > C["klimek_f_e"]
    assert strength["signals"] == [] and strength["level"] == "none"
    assert set(strength["not_computed"]) == set(FIRING_NAMES)


def test_rules_need_their_methods_minimum_of_stations():
    small = {
        **_doc(**FIRING),
        "election": {"stations": 500, "excluded": {}, "ballots_cast": 1_000_000},
    }
    st = assess(small)  # 500 stations: enough for all but the Klimek fit (1,000)
    assert "Klimek model" in st.not_run and len(st.signals) == 4
    st = assess({**small, "election": {**small["election"], "stations": 40}})
    assert set(st.signals) == {"integer percentages", "finite mixture"}


def test_undefined_excess_gives_no_p_value():
    """No other-candidate votes at or below the turnout peak: k and the excess are undefined."""
    import numpy as np

    from pollwatch.forensics.shpilkin_permutation import shpilkin_permutation_test
    from pollwatch.model import Election

    rng = np.random.default_rng(0)
    v = rng.integers(500, 1500, 200)
    g = rng.binomial(v, 0.6)
    e = Election.from_arrays(
        registered=v,
        valid=g,
        invalid=np.zeros(200, np.int64),
        votes={"A": g, "B": np.zeros(200, np.int64)},
        fields={"ballots_issued_station": g},
    )
    r = shpilkin_permutation_test(e, level=None)
    assert not math.isfinite(r.excess) and math.isnan(r.pvalue) and "undefined" in r.note


def test_report_re_exports_the_rule():
    import pollwatch.forensics.strength as rule
    import pollwatch.report.strength as report_rule

    assert report_rule.assess is rule.assess and report_rule.Strength is rule.Strength
    assert report_rule.RULE == rule.RULE
