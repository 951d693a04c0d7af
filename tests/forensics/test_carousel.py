"""Carousel signals: hand-made constituencies and the exact counts of docs/methods/reference-numbers.md §9."""

from __future__ import annotations

import time

import numpy as np
import pytest

from pollwatch.errors import DegenerateDataWarning
from pollwatch.forensics.carousel import carousel_signals, group_median, robust_z
from pollwatch.model import Election


def _election(n_per_group=20, ac=None, mobile=None, groups=("A", "B"), seed=0, issued=None):
    rng = np.random.default_rng(seed)
    n = n_per_group * len(groups)
    registered = np.full(n, 1000)
    issued = rng.integers(500, 700, n) if issued is None else np.full(n, issued)
    mob = rng.integers(20, 40, n) if mobile is None else mobile
    valid = issued - 10
    lead = valid // 2
    ac = rng.integers(5, 15, n) if ac is None else ac
    return Election.from_arrays(
        registered=registered,
        valid=valid,
        invalid=np.full(n, 10),
        votes={"Lead": lead, "Other": valid - lead},
        hierarchy={"region": np.repeat(["R"], n), "tik": np.repeat(list(groups), n_per_group)},
        fields={
            "ballots_issued_station": issued - mob,
            "ballots_issued_mobile": mob,
            "ballots_stationary_box": issued - mob,
            "ballots_mobile_box": mob,
            "absentee_voted": ac,
            "absentee_issued": np.full(n, 8),
        },
    )


class TestGroupMedian:
    def test_matches_numpy_per_group(self):
        rng = np.random.default_rng(1)
        codes = rng.integers(0, 50, 5000)
        vals = rng.normal(size=5000)
        vals[rng.random(5000) < 0.05] = np.nan
        got = group_median(codes, vals, 52)
        for g in range(52):
            v = vals[(codes == g) & ~np.isnan(vals)]
            if len(v):
                assert got[g] == pytest.approx(np.median(v))
            else:
                assert np.isnan(got[g])

    def test_robust_z_mad_zero(self):
        z, med, mad = robust_z(np.array([0.1, 0.1, 0.1, 0.3]), np.zeros(4, np.int64))
        assert med[0] == 0.1 and mad[0] == 0
        assert np.isinf(z[3]) and np.isnan(z[0])


class TestCarouselSignals:
    def test_planted_outlier_is_flagged_in_its_own_group_only(self):
        ac = np.full(40, 10)
        ac[:20] += np.arange(20) % 3  # group A: 10..12 voters, small spread
        ac[20:] = 60 + np.arange(20) % 3  # group B: a railway-station constituency, high everywhere
        ac[5] = 150  # a carousel in group A
        e = _election(ac=ac)
        r = carousel_signals(e)
        s = r.shares["absentee"]
        assert r.n_groups == 2 and r.group_level == "tik"
        assert s.flag_floored[5] and r.flag[5]
        assert not s.flag_floored[20:].any()  # high but normal for its constituency
        assert s.z[5] > 3

    def test_floor_and_n_min(self):
        ac = np.full(40, 10)
        ac[3] = 11  # MAD = 0: strictly above the median, but tiny
        r = carousel_signals(_election(ac=ac, issued=600))
        s = r.shares["absentee"]
        assert s.flag[3] and not s.flag_floored[3]
        r2 = carousel_signals(
            _election(ac=np.where(np.arange(40) == 3, 100, 0), issued=600), n_min=200
        )
        assert r2.shares["absentee"].flag[3] and not r2.shares["absentee"].flag_floored[3]

    def test_hard_flag_and_card_balance(self):
        e = _election()
        t = e.table.with_columns(
            (e.table["ballots_stationary_box"] + (e.table["station_id"] == "7")).alias(
                "ballots_stationary_box"
            )
        )
        r = carousel_signals(Election(t, e.meta))
        assert r.n_boxes_gt_issued == 1 and r.boxes_gt_issued[6]
        assert r.cards_used == int(e.field("absentee_voted").sum())
        assert r.cards_issued == 8 * 40
        assert r.group_cards_used.sum() == r.cards_used

    def test_parameters_validated(self):
        e = _election()
        with pytest.raises(ValueError, match=r"delta \(1.5\)"):
            carousel_signals(e, delta=1.5)
        with pytest.raises(ValueError, match=r"n_min \(-1\)"):
            carousel_signals(e, n_min=-1)
        with pytest.raises(ValueError, match=r"k \(0\)"):
            carousel_signals(e, k=0)
        with pytest.raises(ValueError, match=r"group_level \('uik'\)"):
            carousel_signals(e, group_level="uik")
        assert carousel_signals(e, group_level="region").n_groups == 1

    def test_no_lines_warns(self):
        e = Election.from_arrays(
            registered=np.array([100, 100]),
            valid=np.array([50, 60]),
            invalid=np.array([0, 0]),
            votes={"A": np.array([30, 30]), "B": np.array([20, 30])},
        )
        with pytest.warns(DegenerateDataWarning, match="no absentee"):
            r = carousel_signals(e)
        assert r.shares == {} and "no absentee" in r.summary().as_text()

    def test_azerbaijan_shares(self):
        n = 30
        reg = np.full(n, 1000)
        add = np.full(n, 20)
        add[0] = 200
        cards = np.full(n, 5)
        e = Election.from_arrays(
            registered=reg,
            valid=np.full(n, 500),
            invalid=np.zeros(n, int),
            votes={"A": np.full(n, 300), "B": np.full(n, 200)},
            hierarchy={"conec": np.repeat(["1"], n)},
            fields={
                "additional_list": add,
                "absentee_voted": cards,
                "absentee_taken": np.full(n, 3),
                "ballots_issued_station": np.full(n, 500),
            },
        ).with_meta(profile="AZ", country="AZ")
        r = carousel_signals(e)
        assert set(r.shares) == {"cards", "additional_list"}
        assert r.shares["additional_list"].flag_floored[0] and r.flag[0]
        assert r.n_groups_cards_over == 1  # 150 cards used, 90 taken away in the ConEC
        assert r.to_dict()["shares"]["cards"]["denominator"] == "registered"


REF_9 = {  # docs/methods/reference-numbers.md §9 (exact)
    "ru2011": dict(
        ac=1_257_966,
        issued=1_796_939,
        mob=0.0662,
        mob_med=0.0593,
        flagged=8_268,
        floored=4_369,
        boxes=18,
    ),
    "ru2012": dict(
        ac=1_600_046,
        issued=2_166_913,
        mob=0.0822,
        mob_med=0.0776,
        flagged=8_138,
        floored=4_583,
        boxes=13,
    ),
}


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["ru2011", "ru2012"])
def test_reference_section_9(name, request):
    e = request.getfixturevalue(name)
    t0 = time.perf_counter()
    r = carousel_signals(e)
    elapsed = time.perf_counter() - t0
    ref = REF_9[name]
    ac = r.shares["absentee"]
    assert r.n_groups == 2_746
    assert r.cards_used == ref["ac"] and r.cards_issued == ref["issued"]
    assert ac.n_flagged == ref["flagged"] and ac.n_flagged_floored == ref["floored"]
    assert r.n_boxes_gt_issued == ref["boxes"]
    assert round(r.shares["mobile"].national_share, 4) == ref["mob"]
    assert round(r.shares["mobile"].station_median, 4) == ref["mob_med"]
    assert r.n_flagged == ac.n_flagged_floored
    assert elapsed < 2.0  # loose guard; typical 0.2–0.5 s
