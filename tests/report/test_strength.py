"""The report's strength rule applies the calibrated decision rules (pollwatch.calibration)."""

import math

import pytest

from pollwatch.calibration import CRITICAL_VALUES as C
from pollwatch.report.strength import assess


def _doc(**methods):
    return {"election": {"ballots_cast": 1_000_000}, "methods": methods, "findings": {}}


FIRING = {
    "integer_percentages": {"z": C["integer_z"] + 0.1},
    "shpilkin_permutation": {"p_value": 0.01},
    "mixture_by_region": {"manufactured_votes": (C["mixture_manufactured_share"] + 0.001) * 1_000_000, "units": 8},
    "klimek": {"f_i": 0.1, "f_e": C["klimek_f_e"] + 0.001},
    "coarse_shares": {"fraud_percent": C["coarse_fraud_pct"] + 0.1},
}
QUIET = {
    "integer_percentages": {"z": C["integer_z"] - 0.1},
    "shpilkin_permutation": {"p_value": 0.05},  # the rule is strict: p < 0.05
    "mixture_by_region": {"manufactured_votes": (C["mixture_manufactured_share"] - 0.001) * 1_000_000, "units": 8},
    "klimek": {"f_i": C["klimek_f_i"], "f_e": 0.0},
    "coarse_shares": {"fraud_percent": C["coarse_fraud_pct"]},
}


def test_each_rule_fires_alone_just_above_its_critical_value():
    for name in FIRING:
        st = assess(_doc(**{**QUIET, name: FIRING[name]}))
        assert st.level == "weak" and len(st.signals) == 1, name
        assert st.not_run == ()


@pytest.mark.parametrize(("n", "level"), [(0, "none"), (1, "weak"), (2, "moderate"), (3, "strong"), (5, "strong")])
def test_levels_count_the_rules_that_fire(n, level):
    names = list(FIRING)
    st = assess(_doc(**{k: (FIRING[k] if i < n else QUIET[k]) for i, k in enumerate(names)}))
    assert st.level == level and len(st.signals) == n


def test_missing_or_nan_statistics_never_fire_and_are_listed():
    st = assess(_doc(integer_percentages={"z": math.nan}, klimek=FIRING["klimek"]))
    assert st.signals == ("Klimek model",)
    assert set(st.not_run) == {"integer percentages", "Shpilkin excess votes", "finite mixture", "coarse vote shares"}


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
        return assess(analyze(e, seed=1, methods=["integer_percentages", "shpilkin", "shpilkin_test",
                                                   "mixture_by_region", "klimek", "digits"]).doc)

    clean = level(FraudConfig(), 5)
    assert clean.level in ("none", "weak") and "coarse vote shares" in clean.not_run
    stuffed = level(FraudConfig(stuffing=Stuffing(0.3)), 5)
    assert {"Shpilkin excess votes", "finite mixture"} <= set(stuffed.signals)
