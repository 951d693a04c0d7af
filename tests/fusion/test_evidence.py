"""The dossier's evidence objects, one per source, on hand-made cases: what each function reads,
``None`` when the source says nothing about the station, frozen-ness and the JSON round trip."""

from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from pollwatch.fusion import build_dossier
from pollwatch.fusion.dossier import Statement, station_dossier
from pollwatch.fusion.evidence import (
    ArithmeticFinding,
    CameraCount,
    CameraEvent,
    CameraEvidence,
    ForensicEvidence,
    Mismatch,
    ObserverEvidence,
    ObserverReport,
    OfficialEvidence,
    ProtocolCopy,
    ProtocolCopyEvidence,
    camera_evidence,
    copy_evidence,
    forensic_evidence,
    observer_evidence,
    official_evidence,
    scores_table,
)
from pollwatch.model import Election


@pytest.fixture
def election():
    """Three stations; the votes of station 2 do not add up to its valid votes."""
    return Election.from_arrays(
        registered=np.array([1000, 800, 500]),
        valid=np.array([600, 500, 300]),
        invalid=np.array([10, 20, 0]),
        votes={"Alpha": np.array([400, 250, 100]), "Beta": np.array([200, 200, 200])},
        station_ids=np.array(["1", "2", "3"]),
        hierarchy={"region": np.array(["N", "N", "S"])},
    )


def roundtrip(x) -> None:
    d = x.to_dict()
    assert json.loads(json.dumps(d)) == d


def test_official_evidence(election):
    o = official_evidence(election, "1")
    assert o.fields["registered"] == 1000 and o.fields["valid"] == 600 and o.known
    assert dict(o.votes) == {"Alpha": 400, "Beta": 200} and o.leader == "Alpha"
    assert o.turnout == pytest.approx(610 / 1000) and o.leader_share == pytest.approx(400 / 600)
    assert o.arithmetic == ()
    assert o.to_dict() == {
        "registered": 1000,
        "valid": 600,
        "invalid": 10,
        "votes": {"Alpha": 400, "Beta": 200},
        "turnout": pytest.approx(0.61),
        "leader": "Alpha",
        "leader_share": pytest.approx(2 / 3),
    }
    broken = official_evidence(election, "2")
    assert broken.arithmetic and all(isinstance(a, ArithmeticFinding) for a in broken.arithmetic)
    assert broken.arithmetic[0].message
    assert official_evidence(election, "no such station") is None
    # only part of a protocol (the service without official protocols): not known, nothing made up
    part = OfficialEvidence({"registered": 900})
    assert not part.known and part.to_dict() == {"registered": 900}
    roundtrip(o)
    roundtrip(broken)


def test_forensic_evidence():
    table = pl.DataFrame(
        {
            "station_id": ["A", "B"],
            "turnout": [0.97, 0.5],
            "leader_share": [0.98, float("nan")],
            "extreme": [True, False],
            "above_peak": ["true", "false"],  # as read back from a CSV without a schema
            "integer": [True, False],
            "points": [3.0, 0.0],
            "rank": [1, 2],
        }
    )
    f = forensic_evidence(table, "A")
    assert (f.rank, f.points, f.n_stations) == (1, 3.0, 2)
    assert f.signals == ("extreme", "above_peak", "integer")
    assert f.statistical == ("extreme", "above_peak") and f.weak == ("integer",)
    assert f.words(f.weak) == "whole-number percentage"
    assert f.turnout == pytest.approx(0.97) and f.turnout_z is None
    b = forensic_evidence(table, "B")
    assert b.signals == () and b.leader_share is None
    assert b.to_dict()["values"] == {"turnout": 0.5}  # NaN and absent columns left out
    assert forensic_evidence(table, "C") is None and forensic_evidence(None, "A") is None
    # an Analysis-like object or its StationScores give the same table
    assert scores_table(SimpleNamespace(scores=SimpleNamespace(table=table))) is table
    assert forensic_evidence(SimpleNamespace(table=table), "A") == f
    roundtrip(f)


def test_observer_evidence():
    reports = [
        {"station_id": 7, "kind": "incident", "form": "ballot_stuffing", "status": "verified"},
        {"station_id": "7", "kind": "incident", "form": "noise", "status": "rejected"},
        {
            "station_id": "7",
            "kind": "checklist",
            "flags": [{"rule": "seals", "message": "seal broken"}],
            "media": [{"sha256": "b" * 64}, {"sha256": "a" * 64}],
        },
        {"station_id": "8", "kind": "incident", "form": "carousel"},
    ]
    o = observer_evidence(reports, "7")
    assert len(o.reports) == 3 and all(isinstance(r, ObserverReport) for r in o.reports)
    assert [r.form for r in o.fraud] == ["ballot_stuffing"] and len(o.incidents) == 1
    assert len(o.checklists) == 1 and o.checklists[0].flags[0]["rule"] == "seals"
    assert o.media_hashes == ("a" * 64, "b" * 64)
    assert observer_evidence(reports, "9") is None and observer_evidence(None, "7") is None
    assert len(observer_evidence(reports).reports) == 4  # every station
    d = o.to_dict()
    assert d[0]["station_id"] == "7" and d[0]["form"] == "ballot_stuffing"
    assert d[0]["media"] == [] and d[2]["flags"] == [{"rule": "seals", "message": "seal broken"}]
    assert json.loads(json.dumps(d)) == d


def test_copy_evidence(election):
    official = official_evidence(election, "1")
    filed = observer_evidence(
        [
            {
                "station_id": "1",
                "submission_id": 5,
                "kind": "protocol",
                "status": "new",
                "answers": {"numbers": {"valid": 650, "invalid": 10}, "votes": {"cand_01": 250}},
            },
            {  # a rejected copy is not compared
                "station_id": "1",
                "submission_id": 6,
                "kind": "protocol",
                "status": "rejected",
                "answers": {"numbers": {"valid": 1}},
            },
        ],
        "1",
    )
    c = copy_evidence("1", election=election, official=official, observers=filed)
    assert c.compared and c.filed == 2 and c.copy is None
    assert c.mismatches == (
        Mismatch("valid", 650, 600, "service submission 5"),
        Mismatch("Beta", 250, 200, "service submission 5"),
    )
    # the same copy without the official protocol: listed, not compared
    part = copy_evidence("1", official=OfficialEvidence({"registered": 1000}), observers=filed)
    assert not part.compared and part.mismatches == () and part.filed == 2
    assert copy_evidence("1", election=election, official=official) is None
    # a copies file: the row and its mismatches
    copies = SimpleNamespace(
        table=pl.DataFrame(
            {"station_id": ["1"], "registered": [1000], "valid": [600], "invalid": [10]}
            | {"cand_00": [400], "cand_01": [190]}
        ),
        fields=("registered", "valid", "invalid"),
        candidates=("cand_00", "cand_01"),
        source="copies.csv",
    )
    f = copy_evidence("1", election=election, official=official, copies=copies)
    assert dict(f.copy.votes) == {"Alpha": 400, "Beta": 190} and f.copy.fields["valid"] == 600
    assert [(m.field, m.copy, m.official) for m in f.mismatches] == [("Beta", 190, 200)]
    assert f.to_dict()["protocol_copy"]["votes"] == {"Alpha": 400, "Beta": 190}
    assert copy_evidence("2", election=election, official=official, copies=copies) is None
    roundtrip(c)
    roundtrip(f)


def test_camera_evidence():
    cams = SimpleNamespace(
        station_id=np.array(["1", "2"]),
        official=np.array([610.0, 300.0]),
        estimate=np.array([400.0, np.nan]),
        high=np.array([450.0, np.nan]),
        flagged=np.array([True, False]),
        inflation=np.array([0.5, np.nan]),
        ratio=np.array([1.52, np.nan]),
        excess=np.array([160.0, 0.0]),
        level=0.95,
    )
    status = pl.DataFrame(
        {"station_id": ["1", "1", "3"], "time": [480.0, 600.0, 480.0]}
        | {"status": ["online", "turned_away", "online"]}
    )
    events = pl.DataFrame(
        {"station_id": ["1"], "time": [615.0], "event": ["stuffing_seen"], "note": ["a bundle"]}
    )
    c = camera_evidence(cams, "1", status=status, events=events)
    assert c.count.flagged and c.count.excess == 160 and c.count.status is None
    assert [e.status or e.event for e in c.events] == ["online", "turned_away", "stuffing_seen"]
    assert c.events[2] == CameraEvent("10:15", event="stuffing_seen", note="a bundle")
    assert c.outages == (CameraEvent("10:00", status="turned_away"),) and c.stuffing_seen
    assert list(c.to_dict()["camera"]) == [
        "official",
        "estimate",
        "high95",
        "flagged",
        "inflation",
        "ratio",
        "excess",
        "level",
    ]
    assert c.to_dict()["camera_events"][0] == {"time": "08:00", "status": "online"}
    no_estimate = camera_evidence(cams, "2")
    assert no_estimate.count.estimate is None and no_estimate.events == ()
    only_log = camera_evidence(None, "3", status=status)
    assert only_log.count is None and len(only_log.events) == 1
    assert camera_evidence(cams, "4", status=status, events=events) is None
    assert camera_evidence(None, "1") is None
    roundtrip(c)
    roundtrip(no_estimate)


def test_evidence_objects_are_frozen(election):
    objects = [
        official_evidence(election, "2").arithmetic[0],
        official_evidence(election, "1"),
        ForensicEvidence(rank=1, points=1.0, n_stations=3),
        ObserverReport(kind="incident"),
        ObserverEvidence(()),
        Mismatch("valid", 1, 2, "x"),
        ProtocolCopy({}, {}),
        ProtocolCopyEvidence(),
        CameraCount(1.0, 1.0, 2.0, False, 0.0, 1.0, 0.0, 0.95),
        CameraEvent("08:00", status="online"),
        CameraEvidence(),
        Statement("cameras", "hard", "clear", "fine"),
    ]
    for obj in objects:
        name = dataclasses.fields(obj)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, name, None)
        assert not hasattr(obj, "__dict__")  # slots
    o = official_evidence(election, "1")
    with pytest.raises(TypeError):
        o.fields["valid"] = 0  # the mappings are read-only copies
    d = station_dossier("1", election=election)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.official = None
    with pytest.raises(TypeError):
        d.levels["region"] = "S"


def test_dossier_json_keys_and_round_trip(election):
    d = station_dossier(
        "2",
        election=election,
        observer_reports=[
            {"station_id": "2", "kind": "incident", "form": "carousel", "severity": "high"}
        ],
    )
    doc = d.to_dict()
    assert list(doc) == [
        "station_id",
        "levels",
        "official",
        "arithmetic",
        "forensic",
        "protocol_copy",
        "mismatches",
        "observer_reports",
        "camera",
        "camera_events",
        "evidence",
        "agree",
        "disagree",
        "silent",
        "text",
        "media_hashes",
        "notes",
        "census",
        "observed_turnout",
    ]
    assert doc["levels"] == {"region": "N"} and doc["arithmetic"][0]["rule"]
    assert doc["forensic"] is None and doc["camera"] is None and doc["camera_events"] == []
    assert doc["evidence"][0] == d.evidence[0].to_dict()
    assert d.agree == ("protocol arithmetic", "observers' reports")
    assert json.loads(json.dumps(doc)) == doc


def test_build_dossier_reads_each_source():
    clear = build_dossier(
        "S",
        official=OfficialEvidence({"registered": 100, "valid": 50}),
        forensic=ForensicEvidence(rank=3, points=0.0, n_stations=9),
        camera=CameraEvidence(CameraCount(50.0, 60.0, 70.0, False, 0.0, 0.8, 0.0, 0.95)),
    )
    assert clear.agree == () and clear.disagree == ("protocol arithmetic", "forensics", "cameras")
    assert clear.silent == ("observers' protocol copy", "observers' reports")
    assert "No source flags station S" in clear.text and "Not covered" in clear.text
    # below the threshold a statistical signal neither flags nor clears
    weak = build_dossier("S", forensic=ForensicEvidence(1, 1.0, 9, signals=("extreme",)))
    assert "forensics" not in weak.agree + weak.disagree + weak.silent
    assert weak.evidence[0].direction == "weak signal"
    # cameras without an estimate: no data; stuffing seen on camera still flags
    seen = build_dossier(
        "S",
        camera=CameraEvidence(
            CameraCount(50.0, None, None, False, None, None, None, 0.95, coverage=0.2),
            (CameraEvent("10:00", event="stuffing_seen"),),
        ),
    )
    assert [e.direction for e in seen.evidence] == ["no data", "flags"]
    assert seen.agree == ("cameras",) and "cameras" not in seen.silent
    # a camera flag is hard only if it survived the FDR control and the hidden-window bound
    for hard, strength in ((True, "hard"), (None, "hard"), (False, "statistical")):
        flag = CameraCount(900.0, 600.0, 700.0, True, 300.0, 1.5, 200.0, 0.95, hard=hard)
        d = build_dossier("S", camera=CameraEvidence(flag))
        assert d.evidence[0].strength == strength and d.agree == ("cameras",)
        assert ("Hard evidence" in d.text) == (strength == "hard")
        assert ("hard" in flag.to_dict()) == (hard is not None)
    # a one-sided bound (official lines with unseen ballots) neither flags nor clears inflation
    above = CameraCount(900.0, 600.0, 700.0, False, 300.0, 1.5, 0.0, 0.95, bound=True)
    d = build_dossier("S", camera=CameraEvidence(above))
    assert d.evidence[0].direction == "context"
    assert "cameras" not in d.agree + d.disagree + d.silent
    below = CameraCount(400.0, 600.0, 700.0, True, -200.0, 0.7, 100.0, 0.95, bound=True)
    d = build_dossier("S", camera=CameraEvidence(below))
    assert "below the camera" in d.evidence[0].text and d.agree == ("cameras",)
    # copies filed where the official protocol is not loaded
    filed = build_dossier(
        "S", protocol_copy=ProtocolCopyEvidence(filed=1, compared=False), observers=None
    )
    assert filed.evidence[0].direction == "not compared" and "observers' protocol copy" in (
        filed.silent
    )
