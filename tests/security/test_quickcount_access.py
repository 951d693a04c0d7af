"""Issue 19: the registered quick-count sample says where the count looks; an observer who knew
the list could tell others which stations to leave alone. Each test is an attempt by an
observer (or a camera watcher) to import, alter or read the sample, replayed against the
service on SQLite and PostgreSQL: refused, and nothing stored or disclosed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pollwatch.service import models as m

_spec = importlib.util.spec_from_file_location(
    "service_conftest_quickcount", Path(__file__).parents[1] / "service" / "conftest.py"
)
svc = sys.modules.setdefault(_spec.name, importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(svc)
ctx, pg, _fast_hashing = svc.ctx, svc.pg, svc._fast_hashing


def _sample(tmp_path):
    """The five-station sample of tests/service/test_quickcount_service.py (primaries 1, 3, 4)."""
    from pollwatch.quickcount.sample import SampledStation, write_sample

    rows = [
        SampledStation("1", "N", "primary", None, 2, 1, 2.0),
        SampledStation("2", "N", "reserve", 1, 2, 1, 2.0),
        SampledStation("3", "S", "primary", None, 3, 2, 1.5),
        SampledStation("4", "S", "primary", None, 3, 2, 1.5),
        SampledStation("5", "S", "reserve", 1, 3, 2, 1.5),
    ]
    design = {"target_moe": 0.02, "confidence": 0.95, "deff": 2.0, "n": 3}
    path = tmp_path / "sample.csv"
    write_sample(path, rows, seed=7, strata_by=["region"], design=design,
                 created_at="2026-12-06T06:00:00+00:00")  # fmt: skip
    return path


def _files(path):
    from pollwatch.quickcount.sample import sidecar_path

    side = sidecar_path(path)
    return {"sample": (path.name, path.read_bytes()), "sidecar": (side.name, side.read_bytes())}


def _login(ctx, role: str) -> None:
    r = ctx.client.post("/login", data={"username": role, "password": f"{role}-pass"},
                        follow_redirects=False)  # fmt: skip
    assert r.status_code == 303


@pytest.mark.parametrize("role", ["observer", "camera_watcher"])
def test_field_users_cannot_import_or_replace(ctx, tmp_path, role):
    url = f"/api/quickcount/{ctx.election_id}"
    assert ctx.post(role, f"{url}/sample", files=_files(_sample(tmp_path))).status_code == 403
    with ctx.session() as s:
        assert s.scalar(select(func.count()).select_from(m.QcSample)) == 0
        assert s.scalar(select(func.count()).where(m.AuditLog.entity == "qc_sample")) == 0
    assert (
        ctx.post("coordinator", f"{url}/sample", files=_files(_sample(tmp_path))).status_code == 201
    )
    body = {"station_id": ctx.stations[2], "reason": "I prefer station 5"}
    assert ctx.post(role, f"{url}/replace", json=body).status_code == 403
    assert ctx.post(role, f"{url}/publish").status_code == 403
    with ctx.session() as s:
        assert s.scalar(select(func.count()).select_from(m.QcReplacement)) == 0
        assert s.scalar(select(func.count()).select_from(m.QcPublication)) == 0


def test_observer_cannot_read_the_sample_list(ctx, tmp_path):
    url = f"/api/quickcount/{ctx.election_id}"
    assert (
        ctx.post("coordinator", f"{url}/sample", files=_files(_sample(tmp_path))).status_code == 201
    )
    for path in ("sample", "status", "publications"):
        r = ctx.get("observer", f"{url}/{path}")
        assert r.status_code == 403, path
        assert '"station"' not in r.text and "stratum" not in r.text
    _login(ctx, "observer")
    r = ctx.client.get(f"/quickcount?election={ctx.election_id}")
    assert r.status_code == 403 and "stratum" not in r.text.lower()


def test_observer_learns_the_mark_of_own_stations_only(ctx, tmp_path):
    """The observer holds stations 1 (primary) and 2 (reserve). Probing other stations' pages,
    the marks endpoint or the stations page reveals nothing about 3 and 4 (primaries)."""
    url = f"/api/quickcount/{ctx.election_id}"
    assert (
        ctx.post("coordinator", f"{url}/sample", files=_files(_sample(tmp_path))).status_code == 201
    )
    assert ctx.get("observer", "/api/quickcount/marks").json() == {
        "quickcount_stations": [ctx.stations[0]]
    }
    _login(ctx, "observer")
    for station, marked in zip(ctx.stations, (True, False, False, False, False), strict=True):
        for kind in ("protocol", "incident"):
            page = ctx.client.get(f"/file/{kind}?station={station}").text
            assert ("Quick-count station" in page) is marked, (station, kind)
    assert ctx.client.get("/stations").text.count("Quick-count station") == 1
    # the SMS intake answers a results message for a primary the sender does not hold exactly
    # as for any unassigned station
    r = ctx.client.post(
        "/api/sms/webhook",
        headers={"X-Pollwatch-Secret": "s3cret"},
        data={"sender": "+994500000001", "text": f"R{ctx.users['observer']} #3 1 1 0 1"},
    ).json()
    r2 = ctx.client.post(
        "/api/sms/webhook",
        headers={"X-Pollwatch-Secret": "s3cret"},
        data={"sender": "+994500000001", "text": f"R{ctx.users['observer']} #5 1 1 0 1"},
    ).json()
    assert not r["ok"] and r["reply"].replace("Station 3 ", "Station X ") == r2["reply"].replace(
        "Station 5 ", "Station X "
    )
