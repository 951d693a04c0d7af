"""The pre-registered verdict of ``compare``: Holm's procedure, the three headline tests, the
shown-not-voted quantities and the too-early rule (docs/quickcount.md §8.1)."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

from pollwatch.errors import SmallSampleWarning
from pollwatch.quickcount.compare import compare, describe
from pollwatch.quickcount.design import draw_sample
from pollwatch.quickcount.estimate import estimate
from pollwatch.quickcount.simulation import (
    copies_from,
    manufacture_share,
    report_arrivals,
    simulate_frame,
    stuff_ballots,
    verdict_acceptance,
    wilson_interval,
)
from pollwatch.quickcount.verdict import (
    CONSISTENT,
    DISCREPANCY,
    TOO_EARLY,
    VerdictRule,
    decide,
    holm,
    official_figures,
)

STRATA = ["region", "urban"]


@pytest.fixture(scope="module")
def election():
    return simulate_frame(31, stations=2000, regions=6)


@pytest.fixture(scope="module")
def design(election):
    return draw_sample(election, 500, strata=STRATA, seed=3)


@pytest.fixture(scope="module")
def result(election, design):
    ids = design.table["station_id"].to_list()
    return estimate(copies_from(election, ids), election, strata=STRATA)


def test_holm_against_hand_computation():
    # p sorted 0.001, 0.02, 0.03; thresholds 0.05/3, 0.05/2, 0.05: reject, reject, reject
    r, a = holm([0.03, 0.001, 0.02], 0.05)
    assert r.tolist() == [True, True, True]
    assert a.tolist() == pytest.approx([0.04, 0.003, 0.04])
    # stops at the first failure even if a later p is small enough on its own threshold
    r, _ = holm([0.02, 0.026, 0.04], 0.05)
    assert r.tolist() == [False, False, False]
    # more powerful than Bonferroni: 0.02 > 0.05/3 but ≤ 0.05/2 after the first rejection
    r, _ = holm([0.001, 0.02, 0.9], 0.05)
    assert r.tolist() == [True, True, False]
    r, a = holm([np.nan, 0.01], 0.05)  # untestable: not counted in m
    assert r.tolist() == [False, True] and math.isnan(a[0]) and a[1] == pytest.approx(0.01)


def test_truth_is_consistent(election, design, result):
    v = decide(result, election, sampled=design)
    assert v.verdict == CONSISTENT
    assert [t.quantity for t in v.tests] == ["leader_share", "turnout", "lead"]
    assert v.response_rate == 1 and v.n_sampled == 500
    for t in v.tests:
        assert t.df == result.df and t.family_low < t.low <= t.high < t.family_high
    shown = {s.quantity for s in v.shown}
    assert "invalid_share" in shown and v.leader not in shown and "turnout" not in shown


def test_leader_share_off_by_five_se_is_a_discrepancy(election, design, result):
    figs = official_figures(election)
    lead = result.lead.a
    figs[lead] = result[lead].estimate + 5 * result[lead].se
    v = decide(result, figs, sampled=design)
    assert v.verdict == DISCREPANCY
    assert next(t for t in v.tests if t.quantity == "leader_share").rejects
    assert "share" in v.reason


def test_shown_quantities_do_not_vote(election, design, result):
    figs = official_figures(election)
    figs["invalid_share"] = 0.5  # absurd, but not a headline quantity
    third = result.candidates[-1] if result.candidates[-1] != result.lead.b else None
    v = decide(result, figs, sampled=design)
    assert v.verdict == CONSISTENT
    assert not next(s for s in v.shown if s.quantity == "invalid_share").inside
    if third:
        assert third in {s.quantity for s in v.shown}


def test_turnout_alone_can_decide(election, design, result):
    figs = official_figures(election)
    figs["turnout"] = result["turnout"].estimate + 4 * result["turnout"].se
    v = decide(result, figs, sampled=design)
    assert v.verdict == DISCREPANCY and [t.rejects for t in v.tests] == [False, True, False]


def test_alpha_controls_the_decision(election, design, result):
    figs = official_figures(election)
    lead = result.lead.a
    # t = 2.8: two-sided p ≈ 0.005 < 0.05/3 but > 0.01/3
    figs[lead] = result[lead].estimate + 2.8 * result[lead].se
    assert decide(result, figs, sampled=design).verdict == CONSISTENT
    assert decide(result, figs, rule=VerdictRule(alpha=0.05)).verdict == DISCREPANCY
    bonf = VerdictRule(alpha=0.05, correction="bonferroni")
    assert decide(result, figs, rule=bonf).tests[0].p_adjusted == pytest.approx(
        min(1, 3 * decide(result, figs, rule=bonf).tests[0].p)
    )


def test_too_early_on_low_response(election, design):
    ids = design.table["station_id"].to_list()[::2]  # half the sample
    r = estimate(copies_from(election, ids), election, strata=STRATA)
    v = decide(r, election, sampled=design)
    assert v.verdict == TOO_EARLY and v.tests == ()
    assert v.response_rate == pytest.approx(0.5, abs=0.01) and "drawn stations" in v.reason
    # without the sample the response cannot be checked, and the summary says so
    assert decide(r, election).verdict != TOO_EARLY
    assert "response unknown" in decide(r, election).summary().text


def test_too_early_when_strata_have_too_few_reports(election, design):
    t = design.table
    keep = t.filter(~t["stratum"].str.contains("rural"))["station_id"].to_list()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        r = estimate(copies_from(election, keep), election, strata=STRATA)
    v = decide(r, election, rule=VerdictRule(min_response=0))
    assert v.verdict == TOO_EARLY and v.borrowed_share > 0.05
    assert all("rural" in s for s in v.short_strata)


def test_compare_carries_the_verdict_and_json(election, design):
    drawn = design.table["station_id"].to_list()
    ids, arr = report_arrivals(election, drawn, 5)
    off = manufacture_share(election, drawn, 0.03, 5)
    c = compare(
        copies_from(election, ids, arrived=arr), off, frame=election, strata=STRATA, sampled=design
    )
    assert c.verdict == DISCREPANCY == c.decision.verdict
    doc = json.loads(json.dumps(c.to_dict()))
    assert doc["verdict"] == DISCREPANCY and len(doc["decision"]["tests"]) == 3
    text = c.summary().as_text()
    assert "Verdict: discrepancy" in text and "Some official figures fall outside" not in text
    # the copies match the official protocols: a sample-only check would never see this
    assert c.protocols.altered_stations == ()


def test_manufacture_and_stuff_are_outside_the_sample(election, design):
    drawn = design.table["station_id"].to_list()
    for off in (
        manufacture_share(election, drawn, 0.02, 1),
        manufacture_share(election, drawn, 0.02, 1, mode="stuff"),
    ):
        a0 = official_figures(election)
        a1 = official_figures(off)
        lead = election.candidates[int(np.argmax(election.votes_matrix().sum(axis=0)))].name
        assert a1[lead] - a0[lead] == pytest.approx(0.02, abs=2e-4)
        inside = off.table.filter(off.table["station_id"].is_in(drawn))
        same = election.table.filter(election.table["station_id"].is_in(drawn))
        assert inside.select(off.table.columns).equals(same.select(off.table.columns))
    with pytest.raises(ValueError, match="could not manufacture"):
        manufacture_share(election, drawn, 0.6, 1)
    s = stuff_ballots(election, drawn[:3], 1, take=0.5)
    assert (s.field("valid") >= election.field("valid")).all()


def test_describe_words():
    assert describe(0.5, 100).startswith("inside")
    assert describe(2.5, 100).startswith("outside")
    assert describe(2.5, 2).startswith("inside")  # t with 2 df: 4.30
    assert describe(math.nan, 10).startswith("cannot")


def test_rule_checks_its_parameters():
    with pytest.raises(ValueError, match="alpha"):
        VerdictRule(alpha=0)
    with pytest.raises(ValueError, match="correction"):
        VerdictRule(correction="sidak")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_reports"):
        VerdictRule(min_reports=1)


def test_wilson_interval():
    lo, hi = wilson_interval(0, 300)
    assert lo == pytest.approx(0, abs=1e-12) and hi == pytest.approx(0.0126, abs=1e-4)
    lo, hi = wilson_interval(15, 300)
    assert (lo, hi) == pytest.approx((0.0305, 0.0810), abs=1e-3)


def test_acceptance_smoke():
    r = verdict_acceptance(3, seed=7, stations=1200, regions=4)
    assert r.runs == 3 and sum(r.counts.values()) == 3 and 0.7 < r.mean_response < 1
    r = verdict_acceptance(2, seed=7, stations=1200, regions=4, arrived_share=0.4)
    assert r.counts[TOO_EARLY] == 2
