"""Official comparison, station-level protocol match, tally-sheet bound, exit polls."""

from __future__ import annotations

import math

import polars as pl
import pytest

from pollwatch.quickcount.compare import (
    CANNOT_SEE,
    compare,
    compare_official,
    describe,
    match_protocols,
    tally_sheet_bound,
)
from pollwatch.quickcount.design import draw_sample
from pollwatch.quickcount.estimate import estimate
from pollwatch.quickcount.exitpoll import EXIT_POLL_LIMITS, ExitPoll, compare_exit_poll
from pollwatch.quickcount.simulation import alter_protocols, copies_from, simulate_frame


@pytest.fixture(scope="module")
def frame():
    return simulate_frame(21, stations=1500, regions=6)


@pytest.fixture(scope="module")
def sample_ids(frame):
    return draw_sample(frame, 180, strata="region", seed=2).table["station_id"].to_list()


def test_mismatch_finds_exactly_the_altered_stations(frame, sample_ids):
    altered = sample_ids[3:60:7]
    official = alter_protocols(
        frame, altered + ["1", "2"], seed=5
    )  # 1, 2 altered outside the sample too
    copies = copies_from(frame, sample_ids)
    m = match_protocols(copies, official)
    expected = sorted(s for s in set(altered) | ({"1", "2"} & set(sample_ids)))
    assert list(m.altered_stations) == expected
    assert m.stations_compared == len(sample_ids)
    fields = {x.field for x in m.mismatches}
    assert frame.candidates[0].name in fields  # votes moved to A from another candidate
    assert fields <= {c.name for c in frame.candidates}
    for x in m.mismatches:
        assert x.copy != x.official
    assert "direct evidence" in m.summary().text
    clean = match_protocols(copies, frame)
    assert clean.altered_stations == () and "match" in clean.summary().text


def test_empty_copy_field_not_compared_and_missing_station(frame, sample_ids):
    official = alter_protocols(frame, sample_ids[:5], seed=3)
    copies = copies_from(frame, sample_ids[:5])
    t = copies.table.with_columns([pl.lit(None, pl.Int64).alias(c.id) for c in frame.candidates])
    t = pl.concat([t, t.head(1).with_columns(pl.lit("nowhere").alias("station_id"))])
    from pollwatch.quickcount.copies import ProtocolCopies

    m = match_protocols(ProtocolCopies.from_frame(t), official)
    assert m.altered_stations == () and m.missing_in_official == ("nowhere",)


def test_official_within_interval_and_far_off(frame, sample_ids):
    r = estimate(copies_from(frame, sample_ids), frame, strata="region")
    ok = compare_official(r, frame)
    assert all(abs(row.z) < 4 for row in ok.rows)
    lead = r.candidates[0]
    bad = compare_official(r, {lead: r[lead].estimate + 5 * r[lead].se})
    assert bad.rows[0].z == pytest.approx(5) and bad.rows[0].verdict.startswith("outside")
    assert (bad.rows[0].low, bad.rows[0].high) == (r[lead].t_low, r[lead].t_high)
    assert "only the pre-registered verdict decides" in bad.summary().text
    assert CANNOT_SEE in bad.summary().notes


@pytest.mark.parametrize(
    "z, word", [(0.5, "inside"), (-2.5, "outside"), (3.5, "outside"), (math.nan, "cannot")]
)
def test_describe_words(z, word):
    assert describe(z, 200).startswith(word)


def test_compare_bundle_mentions_limits(frame, sample_ids):
    official = alter_protocols(frame, sample_ids[:3], seed=1)
    c = compare(copies_from(frame, sample_ids), official, frame=frame, strata="region")
    assert len(c.protocols.altered_stations) == 3
    s = c.summary()
    assert CANNOT_SEE in s.notes and "tabulation, not turnout" in s.as_text()


class TestTallySheetBound:
    def sheets(self):
        return pl.DataFrame(
            {
                "sheet_id": ["a", "a", "b", "c", "c"],
                "A": [100, 100, 60, 20, 25],
                "B": [10, 10, 40, 30, 30],
            }
        )

    def test_dedup_and_decided(self):
        b = tally_sheet_bound(self.sheets(), "A", "B", total_votes=320)
        # a duplicated identically, c twice with different figures (first kept)
        assert b.sheets == 3 and b.duplicates == 2 and b.conflicting_duplicates == ("c",)
        assert (b.votes_a, b.votes_b, b.lead) == (180, 80, 100)
        assert b.remaining == 320 - 260 and b.decided
        assert "decided" in b.summary().text

    def test_not_decided_on_registered(self):
        b = tally_sheet_bound(self.sheets(), "A", "B", uncollected_registered=100)
        assert not b.decided and "could overturn" in b.summary().text

    def test_exactly_equal_is_not_decided(self):
        assert not tally_sheet_bound(self.sheets(), "A", "B", uncollected_registered=100).decided
        assert tally_sheet_bound(self.sheets(), "A", "B", uncollected_registered=99).decided

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="exactly one"):
            tally_sheet_bound(self.sheets(), "A", "B")
        with pytest.raises(ValueError, match="no column 'Z'"):
            tally_sheet_bound(self.sheets(), "A", "Z", total_votes=1)


class TestExitPoll:
    def test_interval_includes_design_effect(self):
        p = ExitPoll("Org", {"A": 0.6, "B": 0.4}, sample_size=4000, stations=100, rho=0.05)
        c = compare_exit_poll(p, {"A": 0.6, "B": 0.4})
        deff = 1 + (40 - 1) * 0.05
        assert c.design_effect == pytest.approx(deff)
        assert c.rows[0].moe == pytest.approx(1.959964 * math.sqrt(deff * 0.24 / 4000), rel=1e-5)
        assert c.rows[0].verdict == "within sampling error"
        assert EXIT_POLL_LIMITS in c.summary().notes

    def test_against_official_and_pvt(self, frame, sample_ids):
        r = estimate(copies_from(frame, sample_ids), frame, strata="region")
        name = r.candidates[0]
        far = ExitPoll(
            "Far", {name: min(r[name].estimate + 0.1, 0.99)}, sample_size=5000, design_effect=2
        )
        c = compare_exit_poll(far, frame, r)
        row = c.rows[0]
        assert row.z_pvt == pytest.approx(
            (row.poll - r[name].estimate) / math.hypot(row.moe / 1.959964, r[name].se), rel=1e-5
        )
        assert row.verdict.startswith("differs") and c.design_effect_source == "stated"

    def test_no_sample_size(self):
        c = compare_exit_poll(ExitPoll("Anon", {"A": 0.9}), {"A": 0.9})
        assert math.isnan(c.rows[0].moe) and c.rows[0].verdict == "no interval"

    def test_bad_figure(self):
        with pytest.raises(ValueError, match=r"figures\['A'\] \(93.9\)"):
            ExitPoll("X", {"A": 93.9})


def test_exit_polls_from_claims_dataset():
    from pollwatch.claims import example_claims

    polls = [
        ExitPoll.from_claim(c, "Ilham Aliyev") for c in example_claims() if c.kind == "exit_poll"
    ]
    assert sorted(p.figures["Ilham Aliyev"] for p in polls) == pytest.approx([0.924, 0.926, 0.939])
    c = compare_exit_poll(polls[0], {"Ilham Aliyev": 0.9212})
    # no interview count is published: no interval, and the limits are stated
    assert c.rows[0].verdict == "no interval" and EXIT_POLL_LIMITS in c.summary().notes
