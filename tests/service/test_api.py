"""Every endpoint and role, including forbidden cases (403) and other people's data (404)."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

ALL = ("admin", "coordinator", "observer", "observer2", "camera_watcher", "analyst", "public")


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


class TestAuth:
    def test_login_and_logout(self, ctx):
        r = ctx.client.post(
            "/api/login/access-token", data={"username": "observer", "password": "observer-pass"}
        )
        assert r.status_code == 200
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert ctx.client.get("/api/users/me", headers=h).json()["username"] == "observer"
        assert ctx.client.post("/api/logout", headers=h).status_code == 204
        assert ctx.client.get("/api/users/me", headers=h).status_code == 401

    def test_wrong_password(self, ctx):
        r = ctx.client.post(
            "/api/login/access-token", data={"username": "observer", "password": "nope-nope"}
        )
        assert r.status_code == 400 and r.json()["detail"] == "Incorrect username or password"

    @pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer forged"}])
    def test_no_or_bad_token(self, ctx, headers):
        assert ctx.client.get("/api/users/me", headers=headers).status_code == 401

    @pytest.mark.parametrize("role", ALL)
    def test_me(self, ctx, role):
        r = ctx.get(role, "/api/users/me")
        assert r.status_code == 200 and r.json()["username"] == role
        assert "password_hash" not in r.json()


class TestUsers:
    @pytest.mark.parametrize(
        "role,status",
        [
            ("admin", 200),
            ("coordinator", 200),
            ("observer", 403),
            ("analyst", 403),
            ("public", 403),
            ("camera_watcher", 403),
        ],
    )
    def test_list(self, ctx, role, status):
        assert ctx.get(role, "/api/users").status_code == status

    @pytest.mark.parametrize(
        "role,new_role,status",
        [
            ("admin", "coordinator", 201),
            ("admin", "analyst", 201),
            ("coordinator", "observer", 201),
            ("coordinator", "admin", 403),
            ("coordinator", "analyst", 403),
            ("observer", "observer", 403),
            ("analyst", "observer", 403),
            ("public", "observer", 403),
        ],
    )
    def test_create(self, ctx, role, new_role, status):
        body = {"username": "new", "password": "long-enough", "role": new_role}
        r = ctx.post(role, "/api/users", json=body)
        assert r.status_code == status, r.text
        if status == 403:
            assert r.json()["detail"] == "Not enough permissions"

    def test_duplicate_and_bad_role(self, ctx):
        body = {"username": "observer", "password": "long-enough", "role": "observer"}
        assert ctx.post("admin", "/api/users", json=body).status_code == 409
        r = ctx.post("admin", "/api/users", json={**body, "username": "x", "role": "king"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "role"]


class TestElections:
    @pytest.mark.parametrize("role", ALL)
    def test_list_and_read(self, ctx, role):
        assert [e["name"] for e in ctx.get(role, "/api/elections").json()] == ["test"]
        assert ctx.get(role, f"/api/elections/{ctx.election_id}").status_code == 200
        assert ctx.get(role, "/api/elections/999").status_code == 404

    @pytest.mark.parametrize(
        "role,count",
        [
            ("admin", 5),
            ("coordinator", 5),
            ("analyst", 5),
            ("observer", 2),
            ("observer2", 1),
            ("camera_watcher", 0),  # assigned to none (issue 18 item 8)
        ],
    )
    def test_stations(self, ctx, role, count):
        r = ctx.get(role, f"/api/elections/{ctx.election_id}/stations")
        assert r.status_code == 200 and r.json()["count"] == count

    def test_stations_forbidden_for_public(self, ctx):
        assert ctx.get("public", f"/api/elections/{ctx.election_id}/stations").status_code == 403

    @pytest.mark.parametrize(
        "role,status", [("admin", 201), ("coordinator", 403), ("observer", 403)]
    )
    def test_import(self, ctx, tmp_path, role, status):
        import numpy as np

        from pollwatch.model import Election

        e = Election.from_arrays(
            registered=np.array([10, 20]),
            valid=np.array([5, 9]),
            invalid=np.array([0, 1]),
            votes={"A": np.array([3, 4]), "B": np.array([2, 5])},
        )
        path = tmp_path / "e.parquet"
        e.to_parquet(path)
        r = ctx.post(
            role, "/api/elections/import", files={"file": ("e.parquet", path.read_bytes())}
        )
        assert r.status_code == status, r.text
        if status == 201:
            stations = ctx.get(role, f"/api/elections/{r.json()['id']}/stations").json()
            assert [s["registered"] for s in stations["data"]] == [10, 20]

    def test_import_garbage_is_422(self, ctx):
        r = ctx.post("admin", "/api/elections/import", files={"file": ("x.csv", b"a;b\n1;2\n")})
        assert r.status_code == 422


class TestAccreditations:
    def test_observer_sees_own_staff_sees_all(self, ctx):
        assert len(ctx.get("observer", "/api/accreditations").json()) == 1
        assert len(ctx.get("coordinator", "/api/accreditations").json()) == 3
        assert len(ctx.get("public", "/api/accreditations").json()) == 0

    def test_request_and_decide(self, ctx):
        body = {"username": "newbie", "password": "long-enough", "role": "observer"}
        uid = ctx.post("coordinator", "/api/users", json=body).json()["id"]
        tok = ctx.client.post(
            "/api/login/access-token", data={"username": "newbie", "password": "long-enough"}
        )
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        r = ctx.client.post(
            "/api/accreditations", headers=h, json={"election_id": ctx.election_id, "body": "CEC"}
        )
        assert (
            r.status_code == 201
            and r.json()["status"] == "requested"
            and r.json()["user_id"] == uid
        )
        acc = r.json()["id"]
        assert (
            ctx.client.post(
                "/api/accreditations", headers=h, json={"election_id": ctx.election_id}
            ).status_code
            == 409
        )
        assert (
            ctx.client.patch(
                f"/api/accreditations/{acc}", headers=h, json={"status": "accredited"}
            ).status_code
            == 403
        )
        r = ctx.patch(
            "coordinator",
            f"/api/accreditations/{acc}",
            json={"status": "accredited", "date": "2026-02-20"},
        )
        assert (
            r.status_code == 200
            and r.json()["status"] == "accredited"
            and r.json()["date"] == "2026-02-20"
        )
        assert (
            ctx.patch(
                "coordinator", "/api/accreditations/999", json={"status": "revoked"}
            ).status_code
            == 404
        )
        assert (
            ctx.patch(
                "coordinator", f"/api/accreditations/{acc}", json={"status": "maybe"}
            ).status_code
            == 422
        )

    @pytest.mark.parametrize("role", ["coordinator", "analyst", "public"])
    def test_only_observers_request(self, ctx, role):
        r = ctx.post(role, "/api/accreditations", json={"election_id": ctx.election_id})
        assert r.status_code == 403


class TestAssignments:
    def test_assign(self, ctx):
        body = {"user_id": ctx.users["observer2"], "station_id": ctx.stations[4]}
        assert ctx.post("observer", "/api/assignments", json=body).status_code == 403
        assert ctx.post("analyst", "/api/assignments", json=body).status_code == 403
        assert ctx.post("coordinator", "/api/assignments", json=body).status_code == 201
        assert ctx.post("coordinator", "/api/assignments", json=body).status_code == 409
        assert (
            ctx.post(
                "coordinator", "/api/assignments", json={**body, "station_id": 999}
            ).status_code
            == 404
        )
        assert (
            ctx.post(
                "coordinator", "/api/assignments", json={**body, "user_id": ctx.users["analyst"]}
            ).status_code
            == 404
        )
        assert len(ctx.get("observer2", "/api/assignments").json()) == 2
        assert len(ctx.get("admin", "/api/assignments").json()) == 4


class TestForms:
    def test_forms_and_taxonomy(self, ctx):
        names = [f["name"] for f in ctx.get("observer", "/api/forms").json()]
        assert sorted(names) == ["counting", "opening", "voting"]
        voting = ctx.get("observer", "/api/forms/voting").json()
        assert {q["type"] for q in voting["questions"]} == {"number", "yesno", "text"}
        assert all(set(q["text"]) == {"en", "az", "ru"} for q in voting["questions"])
        assert ctx.get("observer", "/api/forms/nope").status_code == 404
        tax = ctx.get("observer", "/api/taxonomy").json()
        assert len(tax["categories"]) == 16 and "journalist_barred" in tax["categories"]
        assert ctx.client.get("/api/forms").status_code == 401


class TestChecklists:
    def test_file_read_edit(self, ctx):
        body = ctx.checklist(ctx.stations[0])
        r = ctx.post("observer", "/api/checklists", json=body)
        assert r.status_code == 201 and r.json()["complete"] and r.json()["status"] == "new"
        sid = r.json()["id"]
        assert ctx.get("observer", f"/api/checklists/{sid}").status_code == 200
        assert ctx.get("observer2", f"/api/checklists/{sid}").status_code == 404
        assert ctx.get("analyst", f"/api/checklists/{sid}").status_code == 200
        assert ctx.get("public", f"/api/checklists/{sid}").status_code == 403
        assert ctx.get("observer", f"/api/incidents/{sid}").status_code == 404  # wrong kind
        r = ctx.patch("observer", f"/api/checklists/{sid}", json={"answers": {"admitted": "no"}})
        assert r.status_code == 200 and r.json()["answers"]["admitted"] is False
        assert (
            ctx.patch("observer2", f"/api/checklists/{sid}", json={"answers": {}}).status_code
            == 404
        )
        assert ctx.get("observer2", "/api/checklists").json()["count"] == 0
        assert ctx.get("coordinator", "/api/checklists").json()["count"] == 1

    def test_retry_returns_200_with_the_same_row(self, ctx):
        body = ctx.checklist(ctx.stations[0])
        a = ctx.post("observer", "/api/checklists", json=body)
        b = ctx.post("observer", "/api/checklists", json=body)
        assert (a.status_code, b.status_code) == (201, 200) and a.json()["id"] == b.json()["id"]
        assert ctx.post("observer2", "/api/checklists", json=body).status_code == 409

    def test_partial_and_flags(self, ctx):
        body = ctx.checklist(ctx.stations[0], "voting", voters_by_noon=700, voters_by_17=1500)
        r = ctx.post("observer", "/api/checklists", json=body)
        assert r.status_code == 201 and not r.json()["complete"]
        rules = {f["rule"] for f in r.json()["flags"]}
        assert rules == {"exceeds_registered"}

    @pytest.mark.parametrize(
        "answers,loc",
        [
            ({"admitted": "perhaps"}, "admitted"),
            ({"ballots_received": -5}, "ballots_received"),
            ({"opened_at": "25:99"}, "opened_at"),
            ({"camera": "broken"}, "camera"),
            ({"zzz": 1}, "zzz"),
        ],
    )
    def test_invalid_answers(self, ctx, answers, loc):
        r = ctx.post("observer", "/api/checklists", json=ctx.checklist(ctx.stations[0], **answers))
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "answers", loc]

    def test_unknown_form(self, ctx):
        body = {**ctx.checklist(ctx.stations[0]), "form": "closing"}
        assert ctx.post("observer", "/api/checklists", json=body).status_code == 422

    @pytest.mark.parametrize(
        "role,station_idx,status,detail",
        [
            ("observer", 2, 403, "Station not assigned to you"),
            ("observer2", 1, 403, "Station not assigned to you"),
            ("camera_watcher", 0, 403, "Camera watchers file camera incidents only"),
            ("analyst", 0, 403, "Not enough permissions"),
            ("public", 0, 403, "Not enough permissions"),
            ("coordinator", 2, 201, None),
        ],
    )
    def test_who_may_file_where(self, ctx, role, station_idx, status, detail):
        r = ctx.post(role, "/api/checklists", json=ctx.checklist(ctx.stations[station_idx]))
        assert r.status_code == status
        if detail:
            assert r.json()["detail"] == detail

    def test_revoked_observer_cannot_file(self, ctx):
        accs = ctx.get("coordinator", "/api/accreditations").json()
        acc = next(a for a in accs if a["user_id"] == ctx.users["observer"])
        ctx.patch("coordinator", f"/api/accreditations/{acc['id']}", json={"status": "revoked"})
        r = ctx.post("observer", "/api/checklists", json=ctx.checklist(ctx.stations[0]))
        assert r.status_code == 403 and r.json()["detail"] == "Observer not accredited"

    def test_unknown_station(self, ctx):
        assert ctx.post("observer", "/api/checklists", json=ctx.checklist(999)).status_code == 404


class TestIncidents:
    def test_file_list_edit(self, ctx):
        r = ctx.post("observer", "/api/incidents", json=ctx.incident(ctx.stations[1]))
        assert r.status_code == 201 and r.json()["severity"] == "high"
        iid = r.json()["id"]
        r = ctx.patch("observer", f"/api/incidents/{iid}", json={"severity": "critical"})
        assert r.status_code == 200 and r.json()["severity"] == "critical"
        assert (
            ctx.patch(
                "observer", f"/api/incidents/{iid}", json={"severity": "apocalyptic"}
            ).status_code
            == 422
        )
        assert ctx.get("observer2", f"/api/incidents/{iid}").status_code == 404
        assert ctx.get("observer", "/api/incidents").json()["count"] == 1
        assert (
            ctx.get("analyst", "/api/incidents", params={"station_id": ctx.stations[1]}).json()[
                "count"
            ]
            == 1
        )

    def test_camera_watcher_files_camera_incidents_where_assigned(self, ctx):
        r = ctx.post(
            "camera_watcher",
            "/api/incidents",
            json=ctx.incident(ctx.stations[4], category="camera_covered"),
        )
        assert r.status_code == 403 and r.json()["detail"] == "Station not assigned to you"
        body = {"user_id": ctx.users["camera_watcher"], "station_id": ctx.stations[4]}
        assert ctx.post("coordinator", "/api/assignments", json=body).status_code == 201
        r = ctx.post(
            "camera_watcher",
            "/api/incidents",
            json=ctx.incident(ctx.stations[4], category="camera_covered"),
        )
        assert r.status_code == 201
        r = ctx.post("camera_watcher", "/api/incidents", json=ctx.incident(ctx.stations[4]))
        assert r.status_code == 403

    @pytest.mark.parametrize("field,value", [("category", "alien_landing"), ("severity", "meh")])
    def test_invalid(self, ctx, field, value):
        r = ctx.post(
            "observer", "/api/incidents", json=ctx.incident(ctx.stations[0], **{field: value})
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field]

    def test_reviewed_incident_cannot_be_edited(self, ctx):
        iid = ctx.post("observer", "/api/incidents", json=ctx.incident(ctx.stations[0])).json()[
            "id"
        ]
        ctx.post(
            "coordinator", f"/api/review/{iid}", json={"status": "verified", "reason": "photo"}
        )
        assert (
            ctx.patch("observer", f"/api/incidents/{iid}", json={"description": "x"}).status_code
            == 409
        )


class TestProtocols:
    def copy(self, ctx, role, **override):
        numbers = {
            "registered": 1000,
            "valid": 600,
            "invalid": 10,
            "ballots_mobile_box": 40,
            "ballots_stationary_box": 570,
        }
        votes = {"Alpha": 400, "Beta": 200}
        body = {
            "client_id": ctx.new_id(),
            "station_id": ctx.stations[0],
            "numbers": numbers,
            "votes": votes,
        }
        for k, v in override.items():
            (body["votes"] if k in votes else body["numbers"])[k] = v
        return ctx.post(role, "/api/protocols", json=body)

    def test_two_observers_reconciled_with_conflicts(self, ctx):
        a = self.copy(ctx, "observer")
        b = self.copy(ctx, "observer2", Alpha=450)
        assert a.status_code == b.status_code == 201
        assert a.json()["flags"] == []
        assert {f["rule"] for f in b.json()["flags"]} == {"votes_ne_valid"}
        rec = ctx.get("coordinator", f"/api/protocols/reconciled/{ctx.stations[0]}").json()
        assert rec["n_copies"] == 2 and rec["conflicts"] == {"votes.Alpha": [400, 450]}
        assert rec["votes"] == {"Beta": 200} and rec["numbers"]["valid"] == 600
        assert (
            ctx.get("observer", f"/api/protocols/reconciled/{ctx.stations[0]}").status_code == 403
        )
        assert ctx.get("analyst", f"/api/protocols/reconciled/{ctx.stations[0]}").status_code == 200
        assert ctx.get("coordinator", "/api/protocols/reconciled/999").status_code == 404

    def test_quarantined_copy_leaves_reconciliation(self, ctx):
        self.copy(ctx, "observer")
        b = self.copy(ctx, "observer2", Alpha=450).json()["id"]
        ctx.post(
            "coordinator",
            f"/api/review/{b}/quarantine",
            json={"quarantined": True, "reason": "blurred"},
        )
        rec = ctx.get("coordinator", f"/api/protocols/reconciled/{ctx.stations[0]}").json()
        assert rec["n_copies"] == 1 and rec["conflicts"] == {}

    def test_votes_exceeding_registered_are_flagged(self, ctx):
        r = self.copy(ctx, "observer", Alpha=5000, valid=5200)
        assert "votes_exceed_registered" in {f["rule"] for f in r.json()["flags"]}

    @pytest.mark.parametrize(
        "override,loc",
        [
            ({"Zeta": 1}, ["body", "numbers", "Zeta"]),
            ({"valid": -1}, ["body", "numbers", "valid"]),
            ({"Alpha": "many"}, ["body", "votes", "Alpha"]),
        ],
    )
    def test_invalid(self, ctx, override, loc):
        r = self.copy(ctx, "observer", **override)
        assert r.status_code == 422 and loc in [d["loc"] for d in r.json()["detail"]]

    def test_read_own_only(self, ctx):
        pid = self.copy(ctx, "observer").json()["id"]
        assert ctx.get("observer", f"/api/protocols/{pid}").status_code == 200
        assert ctx.get("observer2", f"/api/protocols/{pid}").status_code == 404
        assert ctx.get("observer2", "/api/protocols").json()["count"] == 0


class TestMedia:
    def upload(self, ctx, role="observer", data=None, cid=None):
        return ctx.client.post(
            "/api/media",
            headers=ctx.headers[role],
            data={"client_id": cid or ctx.new_id()},
            files={"file": ("p.jpg", data if data is not None else jpeg_with_gps(), "image/jpeg")},
        )

    def test_upload_attach_publish(self, ctx):
        cid = ctx.new_id()
        r = self.upload(ctx, cid=cid)
        assert r.status_code == 201
        meta = r.json()
        assert self.upload(ctx, cid=cid).status_code == 200  # retry
        assert meta["sha256"] != meta["published_sha256"]
        pub = ctx.get("observer", f"/api/media/{meta['id']}/published")
        assert pub.status_code == 200 and b"SecretCam" not in pub.content
        # the stored original lost its metadata, pixels untouched; the upload's hash is recorded
        stored = ctx.app.state.store.get(meta["sha256"])
        assert b"SecretCam" not in stored and stored.endswith(jpeg_with_gps()[-200:])
        assert meta["received_sha256"] == hashlib.sha256(jpeg_with_gps()).hexdigest()
        assert ctx.get("observer2", f"/api/media/{meta['id']}").status_code == 404
        assert ctx.get("coordinator", f"/api/media/{meta['id']}").status_code == 200
        body = ctx.incident(ctx.stations[0], media_ids=[meta["id"]])
        sid = ctx.post("observer", "/api/incidents", json=body).json()["id"]
        assert ctx.get("observer", f"/api/media/{meta['id']}").json()["submission_id"] == sid
        other = ctx.incident(ctx.stations[0], media_ids=[meta["id"]])
        assert ctx.post("observer2", "/api/incidents", json=other).status_code == 422

    def test_forbidden_and_bad_files(self, ctx):
        assert self.upload(ctx, role="analyst").status_code == 403
        assert self.upload(ctx, data=b"").status_code == 422
        assert self.upload(ctx, data=b"not an image").status_code == 422


class TestReviewAndPublic:
    def test_queue_review_quarantine_publish(self, ctx):
        iid = ctx.post("observer", "/api/incidents", json=ctx.incident(ctx.stations[0])).json()[
            "id"
        ]
        queue = ctx.get("coordinator", "/api/review").json()
        assert [s["id"] for s in queue["data"]] == [iid]
        for role in ("observer", "analyst", "public", "camera_watcher"):
            assert ctx.get(role, "/api/review").status_code == 403
            assert (
                ctx.post(role, f"/api/review/{iid}", json={"status": "verified"}).status_code == 403
            )
        r = ctx.post("coordinator", f"/api/review/{iid}", json={"status": "rejected"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "reason"]
        r = ctx.post(
            "coordinator",
            f"/api/review/{iid}",
            json={"status": "verified", "reason": "two witnesses"},
        )
        assert r.status_code == 200 and r.json()["reviewer_id"] == ctx.users["coordinator"]
        assert ctx.get("coordinator", "/api/review").json()["count"] == 0
        pub = ctx.client.get("/api/public/submissions").json()
        assert [p["id"] for p in pub] == [iid] and pub[0]["observer"].startswith("s-")
        assert pub[0]["station_code"] == "1"
        ctx.post(
            "admin", f"/api/review/{iid}/quarantine", json={"quarantined": True, "reason": "doubt"}
        )
        assert ctx.client.get("/api/public/submissions").json() == []
        assert (
            ctx.post(
                "observer", f"/api/review/{iid}/quarantine", json={"quarantined": False}
            ).status_code
            == 403
        )
        assert (
            ctx.post("coordinator", "/api/review/999", json={"status": "verified"}).status_code
            == 404
        )

    def test_public_media_only_when_published(self, ctx):
        up = ctx.client.post(
            "/api/media",
            headers=ctx.headers["observer"],
            data={"client_id": ctx.new_id()},
            files={"file": ("p.jpg", jpeg_with_gps(), "image/jpeg")},
        ).json()
        iid = ctx.post(
            "observer", "/api/incidents", json=ctx.incident(ctx.stations[0], media_ids=[up["id"]])
        ).json()["id"]
        url = f"/api/public/media/{up['published_sha256']}"
        assert ctx.client.get(url).status_code == 404
        ctx.post("coordinator", f"/api/review/{iid}", json={"status": "verified", "reason": "ok"})
        r = ctx.client.get(url)
        assert r.status_code == 200 and b"SecretCam" not in r.content
        assert (
            ctx.client.get(f"/api/public/media/{up['sha256']}").status_code == 404
        )  # never the original


class TestRoster:
    def test_complete_partial_missing(self, ctx):
        ctx.post("observer", "/api/checklists", json=ctx.checklist(ctx.stations[0]))
        ctx.post(
            "observer",
            "/api/checklists",
            json=ctx.checklist(ctx.stations[1], "voting", voters_by_noon=10),
        )
        r = ctx.get("coordinator", f"/api/roster/{ctx.election_id}", params={"level": "region"})
        assert r.status_code == 200
        st = {s["code"]: s["forms"] for s in r.json()["stations"]}
        assert st["1"] == {"opening": "complete", "voting": "missing", "counting": "missing"}
        assert st["2"] == {"opening": "missing", "voting": "partial", "counting": "missing"}
        groups = {g["label"]: g["forms"] for g in r.json()["groups"]}
        assert groups == {
            "N": {
                "opening": {"complete": 1, "partial": 0, "missing": 1},
                "voting": {"complete": 0, "partial": 1, "missing": 1},
                "counting": {"complete": 0, "partial": 0, "missing": 2},
            }
        }

    def test_forbidden_and_bad_level(self, ctx):
        assert ctx.get("observer", f"/api/roster/{ctx.election_id}").status_code == 403
        assert ctx.get("public", f"/api/roster/{ctx.election_id}").status_code == 403
        assert ctx.get("analyst", f"/api/roster/{ctx.election_id}").status_code == 200
        assert (
            ctx.get(
                "coordinator", f"/api/roster/{ctx.election_id}", params={"level": "x"}
            ).status_code
            == 422
        )
        assert ctx.get("coordinator", "/api/roster/999").status_code == 404


def test_health(ctx):
    # direct, no proxy, no TLS: pollwatch doctor reads these two through the proxy
    assert ctx.client.get("/health").json() == {"status": "ok", "proxied": False, "secure": False}
    assert (
        ctx.client.get("/health", headers={"X-Forwarded-For": "203.0.113.9"}).json()["proxied"]
        is False
    )
