"""Protocol copies filed through the service API feed the quick count (issue: quick count, data sources)."""

from __future__ import annotations

import pytest

from pollwatch.quickcount.compare import match_protocols
from pollwatch.service.sources.quickcount import copies_from_database

from .conftest import election, make_ctx  # noqa: TID252


def _file(ctx, role, station, valid, invalid, alpha, beta, registered=1000):
    body = {
        "client_id": ctx.new_id(),
        "station_id": station,
        "numbers": {"registered": registered, "valid": valid, "invalid": invalid},
        "votes": {"Alpha": alpha, "Beta": beta},
    }
    r = ctx.post(role, "/api/protocols", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_copies_from_database_reconcile_and_match(tmp_path):
    ctx = make_ctx(tmp_path)
    # station 1: two observers agree with the official protocol; station 2: a copy that differs
    _file(ctx, "observer", ctx.stations[0], 600, 10, 400, 200)
    _file(ctx, "observer2", ctx.stations[0], 600, 10, 400, 200)
    _file(ctx, "observer", ctx.stations[1], 500, 20, 260, 240, registered=800)
    copies, conflicts = copies_from_database(ctx.settings.database_url)
    assert copies.n == 2 and conflicts == {}
    m = match_protocols(copies, election())
    assert m.altered_stations == ("2",)  # official 200/300 for Alpha/Beta, copied 260/240


def test_rejected_and_quarantined_copies_are_left_out(tmp_path):
    ctx = make_ctx(tmp_path)
    sub = _file(ctx, "observer", ctx.stations[0], 600, 10, 400, 200)
    r = ctx.post(
        "coordinator",
        f"/api/review/{sub['id']}",
        json={"status": "rejected", "reason": "illegible"},
    )
    assert r.status_code in (200, 201), r.text
    with pytest.raises(Exception, match="no usable protocol copies"):
        copies_from_database(ctx.settings.database_url)


def test_disagreeing_observers_are_reported(tmp_path):
    ctx = make_ctx(tmp_path)
    _file(ctx, "observer", ctx.stations[0], 600, 10, 400, 200)
    _file(ctx, "observer2", ctx.stations[0], 600, 10, 450, 150)
    _file(ctx, "observer", ctx.stations[1], 500, 20, 200, 300, registered=800)
    copies, conflicts = copies_from_database(ctx.settings.database_url)
    assert set(conflicts["1"]) >= {"votes.Alpha", "votes.Beta"}
    assert copies.table["station_id"].to_list() == ["2"]  # left out until a reviewer resolves it
