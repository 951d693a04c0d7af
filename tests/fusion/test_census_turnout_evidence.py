"""The station dossier's tally-sheet census (issue 21) and observers' turnout count (issue 19)."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from pollwatch.census import census_check
from pollwatch.census.simulation import simulate_census
from pollwatch.fusion.dossier import station_dossier
from pollwatch.fusion.evidence import (
    CensusSheet,
    OfficialEvidence,
    census_evidence,
    observer_evidence,
    turnout_evidence,
)
from pollwatch.model import Election
from pollwatch.quickcount.turnout import estimate_observed_turnout, gap_tolerance


@pytest.fixture(scope="module")
def night():
    n = simulate_census(11, stations=400, regions=3)
    return n, census_check(n.sheets, n.official)


def test_a_sheet_above_official_is_hard_evidence(night):
    n, check = night
    hit = next(f for f in check.findings if f["kind"] == "sheet_above_official")
    sid = hit["station_id"]
    d = station_dossier(sid, election=n.official, census=check, census_sheets=n.sheets)
    c = d.census
    assert c is not None and len(c.sheets) == 1
    # the differences are recomputed from the sheet and the official protocol, and agree with
    # the census's own sheet-by-sheet comparison
    mine = {
        (x.field, x.sheet, x.official, x.kind) for x in c.differences if x.kind != "line_differs"
    }
    theirs = {
        (f["candidate"], f["sheet"], f["official"], f["kind"])
        for f in check.findings
        if f["station_id"] == sid and f["kind"] in ("sheet_above_official", "official_above_sheet")
    }
    assert mine == theirs
    assert "tally-sheet census" in d.agree
    flags = [e for e in d.evidence if e.source == "tally-sheet census" and e.direction == "flags"]
    assert flags and {e.strength for e in flags} == {"hard"}
    assert f"{hit['candidate']} sheet {hit['sheet']:,} vs official {hit['official']:,}" in " ".join(
        e.text for e in flags
    )
    doc = d.to_dict()["census"]
    assert "sheet_above_official" in doc["kinds"] and doc["compared"] is True


def test_matching_and_missing_sheets(night):
    n, check = night
    bad = {f["station_id"] for f in check.findings}
    usable = n.sheets.usable["station_id"].to_list()
    clean = next(s for s in usable if s not in bad)
    d = station_dossier(clean, election=n.official, census=check, census_sheets=n.sheets)
    assert d.census.differences == () and "tally-sheet census" in d.disagree
    ids = n.official.table["station_id"].cast(pl.Utf8).to_list()
    missing = next(s for s in ids if s not in set(n.sheets.table["station_id"].to_list()))
    d = station_dossier(missing, election=n.official, census=check, census_sheets=n.sheets)
    assert d.census is None and "tally-sheet census" in d.silent  # a census ran, no sheet here
    d = station_dossier(missing, election=n.official)
    assert "tally-sheet census" not in d.silent  # no census given: not named at all


def test_conflict_and_problems_are_findings():
    off = OfficialEvidence({"valid": 100, "invalid": 2, "registered": 200}, {"A": 60, "B": 40})
    a = CensusSheet("s1", "ab" * 32, None, {"valid": 100}, {"A": 60, "B": 40}, "agreed")
    b = CensusSheet("s2", "cd" * 32, None, {"valid": 100}, {"A": 70, "B": 30}, "arbitrated",
                    ("candidates' votes add up to 100, valid ballots 99",))  # fmt: skip
    c = census_evidence("7", [a, b], official=off)
    assert [f["kind"] for f in c.findings] == ["conflict", "arithmetic"]
    assert {(x.field, x.kind) for x in c.differences} == {
        ("A", "sheet_above_official"),  # s2: 70 on the sheet, 60 official
        ("B", "official_above_sheet"),
    }
    assert c.photos == ("ab" * 32, "cd" * 32)
    # a protocol line that differs is its own kind, never votes lost or added
    d = CensusSheet("s3", None, None, {"valid": 101, "invalid": 2}, {"A": 60, "B": 40})
    (x,) = census_evidence("7", [d], official=off).differences
    assert (x.field, x.kind, x.difference) == ("valid", "line_differs", -1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.compared = False  # type: ignore[misc]
    # without the official protocol: listed, not compared
    c = census_evidence("7", [a], official=OfficialEvidence({"registered": 200}))
    assert c.compared is False and c.differences == ()
    assert census_evidence("7", [], official=off) is None


def _counting(sid: str, n: int, status: str = "new", sub: int = 1) -> dict:
    return {"station_id": sid, "submission_id": sub, "kind": "checklist", "form": "counting",
            "status": status, "answers": {"ballots_in_boxes": n}}  # fmt: skip


def test_turnout_tolerance_rule_at_its_edge():
    off = OfficialEvidence({"registered": 2000, "valid": 990, "invalid": 10})  # 1,000 ballots
    tol = gap_tolerance(981)  # 2 % of 981 = 19.62 > 5
    inside = turnout_evidence("1", official=off, observers=observer_evidence([_counting("1", 981)]))
    assert inside.gap == 19 and inside.tolerance == pytest.approx(tol) and not inside.flagged
    outside = turnout_evidence(
        "1", official=off, observers=observer_evidence([_counting("1", 980)])
    )
    assert outside.gap == 20 and outside.flagged
    # a small station: the 5-voter floor
    small = OfficialEvidence({"registered": 100, "valid": 50, "invalid": 0})
    t = turnout_evidence("1", official=small, observers=observer_evidence([_counting("1", 44)]))
    assert t.tolerance == 5 and t.gap == 6 and t.flagged
    # a coordinator's rejected checklist is not a count; the last filed count is used
    obs = observer_evidence([_counting("1", 700, "rejected", 1), _counting("1", 995, "new", 2)])
    t = turnout_evidence("1", official=off, observers=obs)
    assert t.observed == 995 and t.counts == (995,) and t.source == "service submission 2"
    assert turnout_evidence("1", official=off, observers=None) is None


def test_turnout_statements():
    off = OfficialEvidence({"registered": 2000, "valid": 990, "invalid": 10}, {"A": 990})
    e = Election.from_arrays(
        registered=np.array([2000, 1000]),
        valid=np.array([990, 500]),
        invalid=np.array([10, 0]),
        votes={"A": np.array([990, 500])},
    )
    sid = str(e.station_ids[0])
    d = station_dossier(sid, election=e, observer_reports=[_counting(sid, 800)])
    (st,) = [s for s in d.evidence if s.source == "observers' turnout count"]
    assert st.strength == "testimony" and st.direction == "flags"
    assert "200 more than the 800 an observer counted" in st.text and "not a camera" in st.text
    assert d.to_dict()["observed_turnout"]["gap"] == 200
    d = station_dossier(sid, election=e, observer_reports=[_counting(sid, 1010)])
    (st,) = [s for s in d.evidence if s.source == "observers' turnout count"]
    assert st.direction == "clear" and "observers' turnout count" in d.disagree
    # without the protocol's ballots: listed, not compared
    t = turnout_evidence(sid, official=OfficialEvidence({"registered": 2000}),
                         observers=observer_evidence([_counting(sid, 800)]))  # fmt: skip
    assert t.gap is None and not t.flagged
    assert off.known


def test_turnout_from_the_estimator_gaps():
    """``observed_turnout``: the estimator's own station gap, tolerance included."""
    e = Election.from_arrays(
        registered=np.array([1000, 1000, 1000, 1000]),
        valid=np.array([600, 500, 550, 700]),
        invalid=np.array([0, 0, 0, 0]),
        votes={"A": np.array([600, 500, 550, 700])},
    )
    ids = [str(s) for s in e.station_ids]
    counts = pl.DataFrame({"station_id": ids, "ballots_in_boxes": [500, 500, 548, 650]})
    est = estimate_observed_turnout(counts, e)
    d = station_dossier(ids[0], election=e, observed_turnout=est)
    ot = d.observed_turnout
    g = next(g for g in est.gaps if g.station_id == ids[0])
    assert (ot.observed, ot.protocol, ot.gap, ot.flagged) == (
        g.observed,
        g.protocol,
        g.gap,
        g.flagged,
    )
    assert ot.gap == 100 and ot.flagged and ot.source == "observed-counts file"
    d = station_dossier(ids[2], election=e, observed_turnout=est)
    assert d.observed_turnout.gap == 2 and not d.observed_turnout.flagged
