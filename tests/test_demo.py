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
    _quick_count_through_the_service(res)


def _quick_count_through_the_service(res) -> None:
    """Issue 19: the registered sample imported, the copies filed over SMS and the web form,
    the estimate published and signed into the chain."""
    import json

    from sqlalchemy import select

    from pollwatch.evidence.keys import known_public_keys
    from pollwatch.service import models as m
    from pollwatch.service.quickcount_live import verify_publication
    from pollwatch.service.sources.evidence import open_database

    svc, live = res.sources["service"], res.sources["quickcount_live"]
    assert svc["n_sms"] == 75 and svc["n_web"] == 75
    st = live["status"]
    assert (st.sampled, st.reported, len(st.quarantined), len(st.off_sample)) == (150, 150, 0, 0)
    # the service's estimate is the library's on the same copies (the report's PVT section)
    name = "Candidate A (incumbent)"
    assert abs(st.estimate[name].estimate - res.sources["pvt"].estimate[name].estimate) < 1e-12
    doc = json.loads(live["publication"]["statement"])
    assert doc["sample_sha256"] == res.sources["sample"].csv_sha256 and len(doc["inputs"]) == 150
    engine, sessions = open_database(svc["url"], svc["data_dir"])
    try:
        with sessions() as s:
            (pub,) = s.scalars(select(m.QcPublication)).all()
            assert verify_publication(pub, known_public_keys(svc["data_dir"]))
            channels = s.scalars(
                select(m.Submission.channel).where(m.Submission.kind == "protocol")
            )
            assert sorted(set(channels)) == ["sms", "web"]
    finally:
        engine.dispose()


def _service_holds_everything(res) -> None:
    import numpy as np
    from sqlalchemy import func, select

    from pollwatch.cameras import compare_official, estimate_turnout
    from pollwatch.service import models as m
    from pollwatch.service.crud.dossier import service_dossier
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
    assert compare_official(again, data.official).table().equals(cams.table())
    assert verify_database(svc["url"], svc["data_dir"]).ok
