"""The quick count on the real Russian 2012 station data: a sample of copies that equal the
official protocols must give intervals consistent with the official result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pollwatch.quickcount.compare import compare
from pollwatch.quickcount.design import draw_sample, sample_size
from pollwatch.quickcount.simulation import copies_from

pytestmark = pytest.mark.realdata


def test_ru2012_pvt_consistent(ru2012):
    d = draw_sample(ru2012, 2000, strata="region", seed=2012)
    r = compare(copies_from(ru2012, d.table["station_id"]), ru2012, strata="region")
    assert r.protocols.altered_stations == ()
    assert all(abs(row.z) < 4 for row in r.official.rows)
    assert r.estimate.lead.call.endswith("ahead, verified")
    assert "above 50 %" in r.estimate.majority


def test_ru2012_tik_strata_with_nonresponse(ru2012):
    d = draw_sample(ru2012, 6000, strata="tik", seed=1)
    ids = d.table["station_id"].to_numpy()
    keep = np.random.default_rng(1).random(len(ids)) < 0.7
    from pollwatch.quickcount.estimate import estimate

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = estimate(copies_from(ru2012, ids[keep]), ru2012, strata="tik")
    assert r.actions and all("collapsed" in a for a in r.actions)
    assert r.n_groups < r.n_strata
    # a TIK leaves its region only when the whole region has fewer than 2 reports
    across = [a for a in r.actions if "across groups" in a]
    assert len(across) < len(r.actions) / 10
    off = ru2012.totals()
    p = off["leader_votes"] / off["valid"]
    q = r[ru2012.leader.name]
    assert abs(q.estimate - p) < 4 * q.se


def test_ru2012_icc_and_size(ru2012):
    s = sample_size(0.01, past=ru2012)
    assert 0.01 < s.rho < 0.3 and s.stations_to_draw > s.stations_srs
