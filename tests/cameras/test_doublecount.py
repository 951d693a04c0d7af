"""The double-counting design: share respected per station and hour, never one's own window,
blind to counts, stable as windows are filed, video counter where footage exists."""

from collections import Counter

import numpy as np
import pytest

from pollwatch.cameras.doublecount import (
    VIDEO,
    WatchedWindow,
    plan_double_counts,
    selected,
)


def _day(n_stations=300, minutes=15, watchers_per_station=1):
    """Every station watched 08:00-20:00 in windows of ``minutes`` by its own watcher."""
    out = []
    for s in range(n_stations):
        for i in range(12 * 60 // minutes):
            t = 480 + i * minutes
            who = tuple(f"w{s}-{k}" for k in range(watchers_per_station))
            out.append(WatchedWindow(f"S{s:03d}", t, t + minutes, who))
    return out


def test_share_respected_per_station_and_hour():
    ws = _day()
    pool = sorted({c for w in ws for c in w.counters})
    plan = plan_double_counts(ws, pool, seed="test-seed", share=0.10)
    n = len(plan.recounts)
    assert abs(n / len(ws) - 0.10) < 0.005, n / len(ws)
    # systematic sample: 48 windows a station -> 4 or 5 each, never 0 or 9
    per_station = Counter(r.station_id for r in plan.recounts)
    assert set(per_station.values()) <= {4, 5}
    assert len(per_station) == 300
    # every hour of the day near 10 % across stations (binomial sd at 1,200 windows: 0.9 %)
    per_hour = Counter(int(r.start // 60) for r in plan.recounts)
    for h in range(8, 20):
        assert abs(per_hour[h] / 1200 - 0.10) < 0.03, (h, per_hour[h])


@pytest.mark.parametrize("share", [0.05, 0.25, 0.5])
def test_other_shares(share):
    ws = _day(100)
    plan = plan_double_counts(ws, ["a", "b"], seed="x", share=share)
    assert abs(len(plan.recounts) / len(ws) - share) < 0.02


def test_never_the_same_watcher_and_load_balanced():
    ws = _day(200, watchers_per_station=1)
    pool = sorted({c for w in ws for c in w.counters})
    plan = plan_double_counts(ws, pool, seed="s2")
    assert plan.recounts
    for r in plan.recounts:
        assert r.second is not None and r.second != r.first
    # a small pool: the two who counted can never re-count; the third gets everything
    two = [
        WatchedWindow("A", 480 + 15 * i, 495 + 15 * i, ("p", "q")[: 1 + i % 2]) for i in range(80)
    ]
    plan2 = plan_double_counts(two, ["p", "q", "r"], seed="s2", share=0.5)
    for r in plan2.recounts:
        if not r.done:
            assert r.second in {"q", "r"} and r.second != r.first
    # load over a pool of 20 watchers: each within 3 sd of the mean
    big = plan_double_counts(ws, [f"x{i}" for i in range(20)], seed="s3")
    load = np.array(list(Counter(r.second for r in big.recounts).values()))
    mean = len(big.recounts) / 20
    assert len(load) == 20 and np.all(np.abs(load - mean) < 3 * np.sqrt(mean)), load


def test_selection_blind_to_counts_and_stable():
    ws = _day(50)
    plan = plan_double_counts(ws, ["a", "b", "c"], seed="k")
    # filing more windows (another station, a later hour) changes no earlier assignment
    more = ws + [WatchedWindow("NEW", 480 + 15 * i, 495 + 15 * i, ("z",)) for i in range(48)]
    plan2 = plan_double_counts(more, ["a", "b", "c"], seed="k")
    old = {(r.station_id, r.start): r.second for r in plan.recounts}
    assert {
        (r.station_id, r.start): r.second for r in plan2.recounts if r.station_id != "NEW"
    } == old
    # the rule takes no count at all: it is a function of seed, station and times only
    assert all(selected("k", r.station_id, r.start, r.end, 0.1) for r in plan.recounts)
    # a different seed picks different windows
    other = plan_double_counts(ws, ["a", "b", "c"], seed="k2")
    assert {(r.station_id, r.start) for r in other.recounts} != set(old)


def test_second_count_filed_marks_done():
    ws = _day(30)
    plan = plan_double_counts(ws, ["a", "b"], seed="d")
    r = plan.recounts[0]
    filed = [
        WatchedWindow(w.station_id, w.start, w.end, w.counters + (r.second,))
        if (w.station_id, w.start) == (r.station_id, r.start)
        else w
        for w in ws
    ]
    after = plan_double_counts(filed, ["a", "b"], seed="d")
    done = [x for x in after.recounts if (x.station_id, x.start) == (r.station_id, r.start)]
    assert done[0].done and done[0].second == r.second
    assert r not in after.for_counter(r.second)
    assert len(after.for_counter(r.second)) == len(plan.for_counter(r.second)) - 1


def test_video_where_footage_exists():
    ws = _day(20)
    plan = plan_double_counts(ws, ["a", "b"], seed="v", footage={"S000", "S001"})
    for r in plan.recounts:
        assert (r.second == VIDEO) == (r.station_id in {"S000", "S001"})
    # a window the counter counted first goes to a watcher
    vid = [WatchedWindow("S000", 480 + 15 * i, 495 + 15 * i, (VIDEO,)) for i in range(48)]
    plan2 = plan_double_counts(vid, ["a"], seed="v", footage={"S000"})
    assert plan2.recounts and all(r.second == "a" for r in plan2.recounts)


def test_no_eligible_watcher_reported():
    ws = [WatchedWindow("A", 480 + 15 * i, 495 + 15 * i, ("only",)) for i in range(48)]
    plan = plan_double_counts(ws, ["only"], seed="n")
    assert plan.recounts and plan.unassigned == list(plan.recounts)
    assert "no eligible second watcher" in plan.summary().as_text()


def test_bad_input():
    with pytest.raises(ValueError, match="share"):
        plan_double_counts([], ["a"], seed="x", share=0)
    with pytest.raises(ValueError, match="share"):
        plan_double_counts([], ["a"], seed="x", share=1.5)
    with pytest.raises(ValueError, match="seed"):
        plan_double_counts([], ["a"], seed="")
    with pytest.raises(ValueError, match="end after"):
        selected("x", "A", 500, 500, 0.1)
