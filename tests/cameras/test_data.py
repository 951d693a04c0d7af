"""Tallies, status-log and events readers; outages → unusable windows; watcher agreement."""

import io

import numpy as np
import polars as pl
import pytest

from pollwatch.cameras import (
    apply_status,
    combine_watchers,
    read_events,
    read_status_log,
    read_tallies,
    tallies_frame,
    watcher_agreement,
)
from pollwatch.cameras.data import format_time, parse_time
from pollwatch.errors import IngestError, SmallSampleWarning

TALLIES = """station_id,window_start,window_end,watcher,count,usable,reason
A,08:00,08:15,w1,12,yes,
A,08:15,08:30,w1,,no,turned_away
A,08:30,08:45,w1,9,,
"""


class TestReaders:
    def test_tallies_ok(self):
        t = read_tallies(io.StringIO(TALLIES))
        assert t.height == 3
        assert t["usable"].to_list() == [True, False, True]
        assert t["window_start"].to_list() == [480.0, 495.0, 510.0]
        assert t["reason"][1] == "turned_away"

    def test_tallies_collects_every_problem(self, tmp_path):
        p = tmp_path / "t.csv"
        p.write_text(
            "station_id,window_start,window_end,count,usable\n"
            "A,08:00,08:15,-3,yes\nB,8h,08:15,4,yes\nC,08:30,08:15,4,maybe\n"
        )
        with pytest.raises(IngestError) as exc:
            read_tallies(p)
        issues = exc.value.issues
        where = {(i.line, i.column) for i in issues}
        assert {(2, "count"), (3, "window_start"), (4, "usable"), (4, "window_end")} <= where
        text = str(issues[0])
        assert "t.csv, line 2" in text and 'column "count"' in text and "'-3'" in text

    def test_missing_column(self):
        with pytest.raises(IngestError, match='missing required column "count"'):
            read_tallies(io.StringIO("station_id,window_start,window_end\nA,08:00,08:15\n"))

    def test_usable_without_count(self):
        with pytest.raises(IngestError, match="usable window needs a count"):
            read_tallies(
                io.StringIO("station_id,window_start,window_end,count,usable\nA,08:00,08:15,,yes\n")
            )

    def test_status_and_events(self):
        s = read_status_log(
            io.StringIO("station_id,time,status\nA,08:00,online\nA,2024-02-07 09:10,Turned away\n")
        )
        assert s["status"].to_list() == ["online", "turned_away"]
        assert s["time"].to_list() == [480.0, 550.0]
        with pytest.raises(IngestError, match="one of online"):
            read_status_log(io.StringIO("station_id,time,status\nA,08:00,sleeping\n"))
        e = read_events(
            io.StringIO("station_id,time,event,note\nA,10:02,stuffing_seen,two bundles\n")
        )
        assert e.row(0) == ("A", 602.0, "stuffing_seen", "two bundles")

    def test_time_round_trip(self):
        for text in ("08:00", "19:45", "08:00:07.5"):
            assert format_time(parse_time(text)) == text


def _grid(counts, usable=None, sid="A", watcher="w1"):
    usable = usable or [True] * len(counts)
    return [
        dict(
            station_id=sid,
            window_start=480 + 15 * i,
            window_end=495 + 15 * i,
            watcher=watcher,
            count=c,
            usable=u,
        )
        for i, (c, u) in enumerate(zip(counts, usable, strict=True))
    ]


class TestStatus:
    def test_overlap_marks_unusable(self):
        t = tallies_frame(_grid([5, 6, 7, 8]))
        st = pl.DataFrame(
            {
                "station_id": ["A", "A", "A"],
                "time": [480.0, 496.0, 505.0],
                "status": ["online", "frozen", "online"],
            },
            schema={"station_id": pl.Utf8, "time": pl.Float64, "status": pl.Utf8},
        )
        out = apply_status(t, st)
        assert out["usable"].to_list() == [True, False, True, True]
        assert out["reason"][1] == "frozen"
        assert out["count"][1] == 6  # kept for the record

    def test_audio_muted_is_not_an_outage(self):
        t = tallies_frame(_grid([5, 6]))
        st = pl.DataFrame({"station_id": ["A"], "time": [480.0], "status": ["audio_muted"]})
        assert apply_status(t, st)["usable"].to_list() == [True, True]


class TestWatchers:
    def test_combine_mean_and_any_unusable(self):
        rows = _grid([10, 20, 30]) + _grid([12, 20, 0], [True, True, False], watcher="w2")
        c = combine_watchers(tallies_frame(rows)).sort("window_start")
        assert c["count"].to_list() == [11.0, 20.0, 15.0]
        assert c["usable"].to_list() == [True, True, False]
        assert c["n_watchers"].to_list() == [2, 2, 2]

    def test_agreement_ratio_and_interval(self):
        rng = np.random.default_rng(3)
        truth = rng.poisson(20, 200)
        a = truth + rng.normal(0, 1.5, 200).round().astype(int)
        b = np.round(truth * 0.8).astype(int)  # the second watcher misses a fifth
        rows = _grid(list(np.maximum(a, 0))) + _grid(list(b), watcher="w2")
        ag = watcher_agreement(tallies_frame(rows), reference="w1")
        assert ag.n_windows == 200
        assert ag.kappa_ci.low < 1 / 0.8 * np.sum(truth) / np.sum(truth) < ag.kappa_ci.high
        assert ag.kappa_ci.low > 1.1
        assert ag.error_per_count > 0

    def test_no_double_counts_uses_the_stated_default(self):
        ag = watcher_agreement(tallies_frame(_grid([1, 2, 3])))
        assert ag.n_windows == 0 and not ag.measured
        assert ag.source == "unmeasured: default"
        assert (ag.error_per_count, ag.systematic_sd) == (0.3, 0.10)
        assert "unmeasured" in ag.summary().text
        zero = watcher_agreement(tallies_frame(_grid([1, 2, 3])), default=(0.0, 0.0))
        assert zero.error_per_count == 0.0 and zero.systematic_sd == 0.0

    def test_reference_gives_each_watcher_a_kappa_and_corrects(self):
        """Bland–Altman bias and per-watcher κ against a reference count; the correction
        multiplies each watcher's counts by their κ, the reference's stay as they are."""
        rng = np.random.default_rng(8)
        truth = rng.poisson(30, 120)
        rows = _grid(list(truth), watcher="video")
        rows += _grid(list(rng.binomial(truth[:60], 0.9)), watcher="ann")  # misses 10 %
        rows += [  # bob counts the other 60 windows, misses 25 %
            dict(r, count=int(c), watcher="bob")
            for r, c in zip(_grid(list(truth))[60:], rng.binomial(truth[60:], 0.75), strict=True)
        ]
        t = tallies_frame(rows)
        ag = watcher_agreement(t, reference="video")
        assert (
            ag.measured and ag.corrected and ag.source == "double counts: 120 windows against video"
        )
        assert ag.kappa_by_watcher["ann"] == pytest.approx(1 / 0.9, rel=0.04)
        assert ag.kappa_by_watcher["bob"] == pytest.approx(1 / 0.75, rel=0.04)
        assert ag.mean_difference > 0 and ag.limits_of_agreement.low < ag.mean_difference
        fixed = ag.correct(t)
        for w in ("ann", "bob"):
            sel = fixed.filter(pl.col("watcher") == w)
            ref = t.filter(pl.col("watcher") == "video").join(
                sel.select("window_start"), on="window_start"
            )
            assert sel["count"].sum() == pytest.approx(ref["count"].sum(), rel=0.01)
        assert fixed.filter(pl.col("watcher") == "video")["count"].to_list() == list(
            map(float, truth)
        )
        # between ordinary watchers: measured disagreement, no correction, default δ kept
        plain = watcher_agreement(t.filter(pl.col("watcher") != "video"))
        assert not plain.corrected and plain.systematic_sd == 0.10

    def test_single_double_count_warns(self):
        rows = _grid([1, 2]) + _grid([3], watcher="w2")
        with pytest.warns(SmallSampleWarning):
            ag = watcher_agreement(tallies_frame(rows))
        assert ag.notes

    def test_bad_level(self):
        with pytest.raises(ValueError, match=r"level \(1.5\)"):
            watcher_agreement(tallies_frame(_grid([1])), level=1.5)
