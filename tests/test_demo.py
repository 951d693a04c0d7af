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
    assert len(res.sources["dossiers"]) > 10 and any(
        d.media_hashes for d in res.sources["dossiers"]
    )
    # observers' copies and incidents went through the service (audit chain), the bundle verifies
    assert res.sources["bundle"].ok and res.sources["bundle"].n_media >= 1
    assert len(res.sources["observer_reports"]) == 150 + len(res.sources["incidents"])
    from pollwatch.evidence import verify_bundle

    assert verify_bundle(res.paths["evidence bundle"]).ok
    # the service database holds what the service needs for complete dossiers: the official
    # protocols and the camera watchers' tallies and status log, all in the audit chain
    _service_holds_everything(res)


def _service_holds_everything(res) -> None:
    import numpy as np
    from sqlalchemy import func, select

    from pollwatch.cameras import compare_official, estimate_turnout, visible_ballots
    from pollwatch.service import models as m
    from pollwatch.service.crud.dossier import service_dossier
    from pollwatch.service.importer import election_from_db
    from pollwatch.service.sources.cameras import camera_data_from_database
    from pollwatch.service.sources.evidence import open_database, verify_database

    svc = res.sources["service"]
    n_stations = res.simulation.election.n_stations
    est = res.sources["camera_estimate"]
    engine, sessions = open_database(svc["url"], svc["data_dir"])
    try:
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(m.OfficialProtocol)) == n_stations
            assert (
                s.scalar(select(func.count()).select_from(m.CameraTally))
                == svc["n_tallies"]
                > 40_000
            )
            assert (
                s.scalar(select(func.count()).select_from(m.CameraLog))
                == svc["n_camera_logs"]
                > 2_000
            )
            # the service's own dossier of the station the cameras contradict most
            cams = res.sources["cameras"]
            worst = str(cams.station_id[int(np.nanargmax(np.where(cams.flagged, cams.excess, -1)))])
            d = service_dossier(s, svc["station_ids"][worst], None)
            protocols = election_from_db(s, s.scalar(select(m.Election.id)))
    finally:
        engine.dispose()
    c = d.camera.count
    assert c.flagged and c.low95 < c.estimate < c.high95
    assert d.official.fields["valid"] > 0 and "cameras" in d.agree
    assert any(e.status == "audio_muted" for e in d.camera_events)
    # what watchers filed estimates exactly as the tallies the demo computed from
    data = camera_data_from_database(svc["url"])
    again = estimate_turnout(data.tallies, data.status, seed=est.seed)
    assert again.table().equals(est.table())
    # the service's protocols read like with like (the in-station line) give the same comparison
    assert compare_official(again, visible_ballots(protocols)).table().equals(cams.table())
    assert verify_database(svc["url"], svc["data_dir"]).ok
