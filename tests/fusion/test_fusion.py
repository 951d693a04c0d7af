"""Fusion on a small simulated election with every source: dossiers, fused score, roll-up, AUC,
report sections (and the report's dossier section in headless Chromium)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from pollwatch.fusion import (
    ForensicEvidence,
    auc,
    build_dossier,
    fused_scores,
    observer_evidence,
    rollup,
    station_dossier,
)
from pollwatch.report.fusion import dossier_section, rollup_section

from ._world import simulated_sources  # noqa: TID252


@pytest.fixture(scope="module")
def world():
    return simulated_sources(["fingerprint", "shpilkin", "carousel", "integer_percentages"])


def test_auc_exact_against_mann_whitney():
    rng = np.random.default_rng(1)
    s = rng.integers(0, 5, 300).astype(float)  # many ties
    y = rng.random(300) < 0.3
    u = mannwhitneyu(s[y], s[~y]).statistic
    assert auc(s, y) == pytest.approx(u / (y.sum() * (~y).sum()))
    assert auc(np.arange(4.0), np.array([0, 0, 1, 1], bool)) == 1.0
    assert auc(-np.arange(4.0), np.array([0, 0, 1, 1], bool)) == 0.0
    assert math.isnan(auc(np.ones(3), np.zeros(3, bool)))
    with pytest.raises(ValueError, match="shape"):
        auc(np.ones(3), np.ones(4, bool))


def test_dossier_altered_station_is_hard_evidence(world):
    sid = world["altered"][0]
    d = station_dossier(
        sid,
        election=world["e"],
        analysis=world["analysis"],
        pvt=world["pvt"],
        copies=world["copies"],
        cameras=world["cams"],
        camera_status=world["status"],
    )
    assert "observers' protocol copy" in d.agree and d.mismatches
    assert any(e.strength == "hard" and e.direction == "flags" for e in d.evidence)
    assert d.official.votes and d.forensic.rank >= 1 and d.protocol_copy.copy is not None
    assert "Hard evidence" in d.text and sid in d.summary().as_text()
    json.dumps(d.to_dict())
    # the same station without the quick-count result: the copy is matched here
    d2 = station_dossier(sid, election=world["e"], copies=world["copies"])
    assert {m.field for m in d2.mismatches} == {m.field for m in d.mismatches}
    with pytest.raises(KeyError):
        station_dossier("no such station", election=world["e"])


def test_dossier_cameras_agree_or_disagree(world):
    c = world["cams"]
    ok = ~np.isnan(c.official) & ~np.isnan(c.high)
    flagged = str(c.station_id[np.flatnonzero(c.flagged & ok)[0]])
    clear = str(c.station_id[np.flatnonzero(~c.flagged & ok)[0]])
    d = station_dossier(flagged, election=world["e"], cameras=c, camera_status=world["status"])
    assert "cameras" in d.agree and d.camera.count.official > d.camera.count.high95
    d = station_dossier(clear, election=world["e"], cameras=c, camera_status=world["status"])
    assert "cameras" in d.disagree and d.camera_events[0].status in ("online", "audio_muted")


def test_build_dossier_plain_parts():
    d = build_dossier(
        "S1",
        forensic=ForensicEvidence(rank=1, points=0.5, n_stations=9, signals=("integer",)),
        observers=observer_evidence(
            [
                {
                    "kind": "incident",
                    "form": "ballot_stuffing",
                    "severity": "high",
                    "status": "verified",
                    "media": [{"sha256": "f" * 64}],
                }
            ]
        ),
    )
    assert d.agree == ("observers' reports",) and d.media_hashes == ("f" * 64,)
    assert any(e.strength == "weak" for e in d.evidence)
    with pytest.raises(ValueError, match="forensic_threshold"):
        build_dossier("S1", forensic_threshold=-1)


def test_fused_score_parts_and_rollup(world):
    fs = fused_scores(
        world["e"],
        analysis=world["analysis"],
        pvt=world["pvt"],
        copies=world["copies"],
        cameras=world["cams"],
        observer_reports=world["reports"],
    )
    t = fs.table
    parts = t["forensic_points"] + t["camera_points"] + t["protocol_points"] + t["incident_points"]
    assert np.allclose(parts.to_numpy(), t["fused"].to_numpy())
    assert (t.filter(t["camera_watched"] & ~t["camera_flag"])["camera_points"] == -1.0).all()
    assert t.filter(t["protocol_flag"])["station_id"].sort().to_list() == sorted(world["altered"])
    top = fs.top(1).row(0, named=True)
    assert top["rank"] == 1 and top["fused"] == t["fused"].max()
    with pytest.raises(ValueError, match="weights key"):
        fused_scores(world["e"], weights={"nope": 1})
    r = rollup(
        fs,
        analysis=world["analysis"],
        pvt=world["pvt"],
        cameras=world["cams"],
        election=world["e"],
        truth=world["y"],
    )
    assert r.flags["cameras"] == {
        "covered": int(t["camera_watched"].sum()),
        "flagged": int(t["camera_flag"].sum()),
    }
    cam = t.filter(t["camera_watched"])
    f = cam["forensic_flag"].to_numpy()
    assert r.conditional["cameras"]["p_if_forensic"] == pytest.approx(
        cam["camera_flag"].to_numpy()[f].mean()
    )
    assert (
        int(r.by_group["stations"].sum()) == t.height
        and int(r.by_group["cameras"].sum()) == r.flags["cameras"]["flagged"]
    )
    assert r.aucs["fusion"] == pytest.approx(auc(t["fused"].to_numpy(), world["y"]))
    assert {e["source"] for e in r.estimates} >= {
        "cameras",
        "quick count (PVT)",
        "forensics (Shpilkin)",
    }
    json.dumps(r.to_dict())
    with pytest.raises(ValueError, match="truth"):
        rollup(fs, truth=world["y"][:-1])


@pytest.mark.browser
def test_report_dossier_section_in_browser(world, browser, tmp_path):
    from pollwatch.report import write_all

    fs = fused_scores(
        world["e"],
        analysis=world["analysis"],
        pvt=world["pvt"],
        copies=world["copies"],
        cameras=world["cams"],
        observer_reports=world["reports"],
    )
    top = fs.top(3)
    ds = [
        station_dossier(
            s,
            election=world["e"],
            analysis=world["analysis"],
            pvt=world["pvt"],
            copies=world["copies"],
            cameras=world["cams"],
            observer_reports=world["reports"],
        )
        for s in top["station_id"]
    ]
    r = rollup(
        fs, analysis=world["analysis"], cameras=world["cams"], election=world["e"], truth=world["y"]
    )
    paths = write_all(
        world["analysis"],
        tmp_path,
        extra_sections=[rollup_section(r), dossier_section(ds, top["rank"].to_list())],
    )
    page = browser.new_context().new_page()
    page.goto(paths["report.html"].resolve().as_uri())
    assert page.locator("#dossiers article.dossier").count() == 3
    first = page.locator("#dossiers article.dossier").first
    assert ds[0].station_id in first.locator("h3").inner_text()
    assert ds[0].text[:40] in first.locator(".dossier-summary").inner_text()
    assert page.locator("#sources table.auc tr").count() == 1 + len(r.aucs)


def test_dossier_manifest_signs_each_dossier(world):
    """The library half of the dossier bundle: what the signed manifest holds (the database half,
    which reads the chain and media, is service.sources.dossier.write_dossier_bundle)."""
    import hashlib

    from pollwatch.evidence.chain import canonical_json
    from pollwatch.fusion.bundle import dossier_manifest

    ids = world["altered"][:2]
    ds = [station_dossier(sid, election=world["e"], analysis=world["analysis"]) for sid in ids]
    m = dossier_manifest(ds)
    assert m["stations"] == [str(s) for s in ids]
    assert [d["station_id"] for d in m["dossiers"]] == m["stations"]
    for d in m["dossiers"]:
        assert m["dossier_sha256"][d["station_id"]] == hashlib.sha256(canonical_json(d)).hexdigest()
    json.dumps(m)  # the manifest is JSON as it stands
