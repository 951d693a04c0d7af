"""Issue 18 items 1 and 8 (identity on every channel): an SMS counts only from the phone
registered for its observer, answers a stranger with one generic reply, is rate-limited per
sender; a camera watcher files only at the stations assigned to it."""

from __future__ import annotations

import pytest


class TestCameraWatcherStations:
    """Item 8: camera watchers could file (camera) incidents for any station."""

    def test_camera_incident_at_unassigned_station_refused(self, ctx):
        body = ctx.incident(ctx.stations[3], category="camera_covered")
        r = ctx.post("camera_watcher", "/api/incidents", json=body)
        assert r.status_code == 403 and r.json()["detail"] == "Station not assigned to you"
        assert ctx.get("coordinator", "/api/incidents").json()["count"] == 0

    def test_camera_incident_at_assigned_station_accepted(self, ctx):
        body = {"user_id": ctx.users["camera_watcher"], "station_id": ctx.stations[3]}
        assert ctx.post("coordinator", "/api/assignments", json=body).status_code == 201
        body = ctx.incident(ctx.stations[3], category="camera_covered")
        assert ctx.post("camera_watcher", "/api/incidents", json=body).status_code == 201
        body = ctx.incident(ctx.stations[2], category="camera_covered")
        assert ctx.post("camera_watcher", "/api/incidents", json=body).status_code == 403

    @pytest.mark.parametrize("path", ["/api/elections/{e}/stations"])
    def test_camera_watcher_lists_only_assigned_stations(self, ctx, path):
        r = ctx.get("camera_watcher", path.format(e=ctx.election_id))
        assert r.status_code == 200 and r.json()["count"] == 0
