"""Shpilkin excess votes: synthetic recovery, the natural-peak rule, reference numbers §4."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.errors import DegenerateDataWarning, SmallSampleWarning
from pollwatch.forensics.shpilkin import ShpilkinParams, shpilkin
from pollwatch.model import Election


def _election(turnout, leader_share, stuff=None, regions=None, registered=1000, seed=0):
    rng = np.random.default_rng(seed)
    n = turnout.size
    V = np.full(n, registered, dtype=np.int64)
    cast = np.clip(np.round(V * turnout), 1, V).astype(np.int64)
    leader = rng.binomial(cast, leader_share)
    others = cast - leader
    if stuff is not None:
        stuff = np.minimum(stuff, V - cast)
        leader = leader + stuff
    valid = leader + others
    return Election.from_arrays(
        registered=V,
        valid=valid,
        invalid=np.zeros(n, dtype=np.int64),
        votes={"Leader": leader, "Other": others},
        hierarchy={
            "region": regions if regions is not None else np.array(["A", "B"])[np.arange(n) % 2]
        },
        fields={"ballots_issued_station": valid},
    ).with_scrutiny("Leader"), (0 if stuff is None else int(stuff.sum()))


def _clean_turnout(n, rng):
    return np.clip(rng.normal(0.5, 0.08, n), 0.2, 0.9)


class TestSynthetic:
    def test_recovers_stuffed_votes(self):
        rng = np.random.default_rng(1)
        t = _clean_turnout(20000, rng)
        stuff = np.where(
            (t > 0.55) & (rng.random(t.size) < 0.4),
            (rng.uniform(0.1, 0.35, t.size) * 1000).astype(np.int64),
            0,
        )
        e, added = _election(t, 0.4, stuff)
        r = shpilkin(e, n_boot=0, by_region=None)
        assert r.mode_pct == pytest.approx(50, abs=2)
        assert r.k == pytest.approx(0.4 / 0.6, rel=0.02)
        assert r.excess == pytest.approx(added, rel=0.05)
        assert r.station_excess.sum() == pytest.approx(r.excess, rel=1e-9)
        t = 100 * e.ballots_issued() / e.field("registered")
        np.testing.assert_array_equal(r.above_peak, np.floor(t) > np.floor(r.mode_pct))
        assert not r.station_excess[~r.above_peak].any()
        assert r.clean_leader_share == pytest.approx(0.4, abs=0.01)

    def test_clean_data_small_excess(self):
        rng = np.random.default_rng(2)
        e, _ = _election(_clean_turnout(20000, rng), 0.4)
        r = shpilkin(e, n_boot=0, by_region=None)
        assert r.excess_pct_of_leader < 2.0
        assert r.sensitivity  # variants computed
        assert "Shpilkin" in r.summary().as_text()

    def test_spike_at_round_high_turnout_does_not_fool_natural_peak(self):
        rng = np.random.default_rng(3)
        t_clean = _clean_turnout(20000, rng)
        t_spike = np.full(4500, 0.805)  # 80.5 %: one bin, others' votes taller than the kernel
        e, _ = _election(
            np.concatenate([t_clean, t_spike]),
            np.concatenate([np.full(20000, 0.4), np.full(4500, 0.7)]),
        )
        natural = shpilkin(e, n_boot=0, by_region=None, variants=False)
        raw = shpilkin(e, n_boot=0, by_region=None, variants=False, peak="raw_max")
        smoothed = shpilkin(e, n_boot=0, by_region=None, variants=False, peak="smoothed_max")
        assert natural.peak_found and natural.mode_pct == pytest.approx(50, abs=2)
        assert raw.mode_pct == 80.5  # the naive modes fail
        assert smoothed.mode_pct == pytest.approx(80.5, abs=1)
        assert raw.excess < 0.1 * natural.excess
        assert natural.curves["others"].argmax() == 80  # really taller than the kernel

    def test_manual_mode_and_single_bin(self):
        rng = np.random.default_rng(4)
        e, _ = _election(_clean_turnout(5000, rng), 0.4)
        r = shpilkin(e, n_boot=0, mode=45.2, ratio="single", by_region=None)
        assert r.mode_pct == 45.5
        L_b, O_b = r.curves["leader"], r.curves["others"]
        assert r.k == pytest.approx(L_b[45] / O_b[45])
        half = shpilkin(e, n_boot=0, bin_pp=0.5, by_region=None, variants=False)
        assert half.curves["turnout_pct"].size == 200

    def test_regions_are_own_estimates(self):
        rng = np.random.default_rng(5)
        regions = np.array(["N", "S"])[rng.integers(0, 2, 8000)]
        e, _ = _election(_clean_turnout(8000, rng), 0.4, regions=regions)
        r = shpilkin(e, n_boot=0, variants=False)
        assert set(r.regions) == {"N", "S"}
        only_n = shpilkin(e.subset(regions == "N"), n_boot=0, by_region=None, variants=False)
        assert r.regions["N"] == pytest.approx(only_n.excess)
        assert r.regions_sum == pytest.approx(r.regions["N"] + r.regions["S"])
        without_s = shpilkin(e, n_boot=0, variants=False, exclude_regions=("S",))
        assert without_s.excess == pytest.approx(only_n.excess)
        assert without_s.exclusions["excluded_regions"] == int((regions == "S").sum())

    def test_bootstrap_seeded_and_covering(self):
        rng = np.random.default_rng(6)
        t = _clean_turnout(4000, rng)
        stuff = np.where(t > 0.6, 150, 0)
        e, _ = _election(t, 0.4, stuff)
        a = shpilkin(e, n_boot=60, seed=7, by_region=None, variants=False)
        b = shpilkin(e, n_boot=60, seed=7, by_region=None, variants=False)
        assert np.array_equal(a.bootstrap, b.bootstrap) and a.seed == 7
        assert a.interval.low <= a.excess <= a.interval.high
        assert a.interval.high > a.interval.low

    def test_degenerate_and_small(self):
        e, _ = _election(np.full(200, 0.97), 0.5)
        with pytest.warns(DegenerateDataWarning):
            r = shpilkin(e, n_boot=0, by_region=None, variants=False)
        assert any("peak" in n for n in r.notes)
        e, _ = _election(np.array([0.5, 0.6, 0.7]), 0.5)
        with pytest.warns(SmallSampleWarning):
            shpilkin(e, n_boot=0, by_region=None, variants=False)

    @pytest.mark.parametrize(
        ("kw", "msg"),
        [
            ({"bin_pp": 0}, r"bin_pp \(0\) must be in the interval \(0, 50\]"),
            ({"peak": "highest"}, r"peak \('highest'\) not recognised"),
            ({"smoothing": 4}, r"smoothing \(4\) must be an odd"),
            ({"mode": 120}, r"mode \(120\) must be in the interval"),
            ({"confidence_level": 1.0}, r"confidence_level \(1.0\)"),
        ],
    )
    def test_bad_parameters(self, kw, msg):
        e, _ = _election(np.full(100, 0.5), 0.5)
        with pytest.raises(ValueError, match=msg):
            shpilkin(e, n_boot=0, **kw)


# docs/methods/reference-numbers.md §4 ---------------------------------------------------------------
REF = {
    2011: dict(
        mode=51.5,
        k=0.532,
        kernel=0.347,
        clean=0.340,
        turnout=0.463,
        E=15.21,
        pct=47.0,
        variants={
            "single_bin_k": 15.24,
            "bins_0.5pp": 15.20,
            "turnout_cast": 15.20,
            "mode_smoothed_max": 15.21,
            "mode_raw_max": 15.21,
        },
    ),
    2012: dict(
        mode=59.5,
        k=1.372,
        kernel=0.578,
        clean=0.570,
        turnout=0.554,
        E=10.97,
        pct=24.1,
        variants={
            "single_bin_k": 11.81,
            "bins_0.5pp": 10.98,
            "turnout_cast": 11.03,
            "mode_smoothed_max": 10.97,
            "mode_raw_max": 11.01,
        },
    ),
}


@pytest.fixture(params=[2011, 2012])
def ru(request):
    return request.param, request.getfixturevalue(f"ru{request.param}")


@pytest.mark.realdata
class TestReferenceNumbers:
    def test_primary_variant(self, ru):
        year, e = ru
        ref = REF[year]
        r = shpilkin(e, n_boot=0)  # primary: G/V, 1-pp bins, natural peak, cumulative k
        assert r.mode_pct == ref["mode"] and r.peak_found
        assert r.k == pytest.approx(ref["k"], abs=0.005)
        assert r.kernel_share == pytest.approx(ref["kernel"], abs=0.002)
        assert r.clean_leader_share == pytest.approx(ref["clean"], abs=0.002)
        assert r.clean_turnout == pytest.approx(ref["turnout"], abs=0.002)
        assert r.excess / 1e6 == pytest.approx(ref["E"], abs=0.05)
        assert r.excess_pct_of_leader == pytest.approx(ref["pct"], abs=1.0)
        if year == 2011:  # Shpilkin's published ≈ 34 % for United Russia
            assert 0.33 <= r.clean_leader_share <= 0.35
        for name, value in ref["variants"].items():
            assert r.sensitivity[name] / 1e6 == pytest.approx(value, abs=0.05), name
        assert r.station_excess.sum() == pytest.approx(r.excess, rel=1e-9)

    @pytest.mark.parametrize(
        ("variant", "kw", "mode"),
        [
            ("mode_raw_max", {"peak": "raw_max"}, {2011: 51.5, 2012: 60.5}),
            ("mode_smoothed_max", {"peak": "smoothed_max"}, {2011: 51.5, 2012: 59.5}),
        ],
    )
    def test_mode_variants(self, ru, variant, kw, mode):
        year, e = ru
        r = shpilkin(e, n_boot=0, by_region=None, variants=False, **kw)
        assert r.mode_pct == mode[year]
        assert r.excess / 1e6 == pytest.approx(REF[year]["variants"][variant], abs=0.05)

    def test_params_object_and_bootstrap(self, ru):
        year, e = ru
        r = shpilkin(e, ShpilkinParams(bin_pp=0.5), n_boot=40, seed=3, variants=False)
        assert r.excess / 1e6 == pytest.approx(REF[year]["variants"]["bins_0.5pp"], abs=0.05)
        lo, hi = r.interval
        assert lo < r.excess < hi and (hi - lo) / r.excess < 0.1
        assert len(r.regions) > 80 and r.regions_sum < r.excess  # regional kernels differ
        d = r.to_dict()
        assert "station_excess" not in d and d["params"]["bin_pp"] == 0.5
