"""The reference-case demo end to end: every source recovers what the simulation injected."""

import json

import pytest

from pollwatch.demo import run_demo


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    res = run_demo(tmp_path, seed=7)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    for section in ('id="pvt"', 'id="cameras"', 'id="claims"', 'id="stations"', 'id="quality"'):
        assert section in html
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert doc["errors"] == {}
    assert doc["strength"]["level"] in ("moderate", "strong")
    # the observers' copies find exactly the protocols altered between station and centre
    assert res.sources["pvt"].protocols.altered_stations == tuple(sorted(res.sources["altered"]))
    # cameras flag stations and bound the added ballots from below, never above the truth
    cams = res.sources["cameras"]
    assert cams.n_flagged > 0
    assert 0 < cams.lower_bound_added <= res.simulation.truth["ballots_added"].sum()
    assert res.paths["report.html"].exists() and res.paths["data/results.csv"].exists()
    # fusion: the fused evidence ranks the stuffed stations better than any single source
    roll = res.sources["rollup"]
    assert roll.fusion_beats_all, roll.aucs
    assert roll.aucs["fusion"] > roll.aucs["forensics"] > 0.5
    assert 'id="dossiers"' in html and 'id="sources"' in html
    assert len(res.sources["dossiers"]) > 10 and any(d.media_hashes for d in res.sources["dossiers"])
    # observers' copies and incidents went through the service (audit chain), the bundle verifies
    assert res.sources["bundle"].ok and res.sources["bundle"].n_media >= 1
    assert len(res.sources["observer_reports"]) == 150 + len(res.sources["incidents"])
    from pollwatch.evidence import verify_bundle

    assert verify_bundle(res.paths["evidence bundle"]).ok
