"""The registered quick-count sample in the service, results arriving over SMS and the web, the
live status and the signed publication (issue 19)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import pytest
from sqlalchemy import select, update

from pollwatch.evidence.keys import known_public_keys
from pollwatch.model import Election
from pollwatch.quickcount.sample import SampledStation, sidecar_path, write_sample
from pollwatch.service import models as m
from pollwatch.service.importer import import_election
from pollwatch.service.quickcount_live import verify_publication
from pollwatch.service.sources.evidence import verify_database

from .test_web import login as web_login  # noqa: TID252

DESIGN = {"target_moe": 0.02, "confidence": 0.95, "deff": 2.0, "n": 3}
AT = "2026-12-06T06:00:00+00:00"


def small_sample(tmp_path, extra: list[SampledStation] = ()):
    """The conftest's five stations: region N (1, 2), S (3, 4, 5). Primaries 1, 3, 4; reserves
    2 (N) and 5 (S)."""
    rows = [
        SampledStation("1", "N", "primary", None, 2, 1, 2.0),
        SampledStation("2", "N", "reserve", 1, 2, 1, 2.0),
        SampledStation("3", "S", "primary", None, 3, 2, 1.5),
        SampledStation("4", "S", "primary", None, 3, 2, 1.5),
        SampledStation("5", "S", "reserve", 1, 3, 2, 1.5),
        *extra,
    ]
    path = tmp_path / "sample.csv"
    n = sum(r.role == "primary" for r in rows)
    write_sample(path, rows, seed=7, strata_by=["region"], design={**DESIGN, "n": n}, created_at=AT)
    return path


def upload(ctx, role: str, election_id: int, path):
    return ctx.post(
        role,
        f"/api/quickcount/{election_id}/sample",
        files={
            "sample": (path.name, path.read_bytes(), "text/csv"),
            "sidecar": (sidecar_path(path).name, sidecar_path(path).read_bytes(), "application/json"),
        },
    )  # fmt: skip


def copy(ctx, role, station: int, valid: int, invalid: int, alpha: int, beta: int):
    body = {
        "client_id": ctx.new_id(),
        "station_id": station,
        "numbers": {"valid": valid, "invalid": invalid},
        "votes": {"Alpha": alpha, "Beta": beta},
    }
    r = ctx.post(role, "/api/protocols", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


class TestSample:
    def test_coordinator_imports_and_the_hash_is_in_the_chain(self, ctx, tmp_path):
        path = small_sample(tmp_path)
        r = upload(ctx, "coordinator", ctx.election_id, path)
        assert r.status_code == 201, r.text
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        assert (r.json()["sha256"], r.json()["primaries"], r.json()["reserves"]) == (sha, 3, 2)
        assert r.json()["receipt"].startswith("pwr1")
        with ctx.session() as s:
            entry = s.scalars(select(m.AuditLog).where(m.AuditLog.entity == "qc_sample")).one()
        assert json.loads(entry.payload)["sha256"] == sha
        rows = ctx.get("coordinator", f"/api/quickcount/{ctx.election_id}/sample").json()
        assert [(x["station"], x["role"], x["active"]) for x in rows["data"]] == [
            ("1", "primary", True), ("2", "reserve", False), ("3", "primary", True),
            ("4", "primary", True), ("5", "reserve", False),
        ]  # fmt: skip
        assert upload(ctx, "coordinator", ctx.election_id, path).status_code == 409  # once

    def test_bad_files_are_refused_with_the_problem(self, ctx, tmp_path):
        path = small_sample(tmp_path, [SampledStation("99", "X", "primary", None, 5, 1, 5.0)])
        r = upload(ctx, "coordinator", ctx.election_id, path)
        assert r.status_code == 422 and "are not stations of election 'test': 99" in r.text
        path.write_bytes(path.read_bytes().replace(b"1.5", b"1.6", 1))  # not the registered file
        r = upload(ctx, "coordinator", ctx.election_id, path)
        assert r.status_code == 422 and "SHA-256" in r.text

    def test_observer_sees_only_the_mark_of_own_stations(self, ctx, tmp_path):
        assert (
            upload(ctx, "coordinator", ctx.election_id, small_sample(tmp_path)).status_code == 201
        )
        # observer: stations 1 (primary) and 2 (reserve); observer2: 1
        assert ctx.get("observer", "/api/quickcount/marks").json() == {
            "quickcount_stations": [ctx.stations[0]]
        }
        web_login(ctx.client, "observer")
        page = ctx.client.get("/stations").text
        assert page.count("Quick-count station") == 1
        assert (
            "Quick-count station"
            in ctx.client.get(f"/file/protocol?station={ctx.stations[0]}").text
        )
        assert (
            "Quick-count station"
            not in ctx.client.get(f"/file/protocol?station={ctx.stations[1]}").text
        )
        assert ctx.client.get("/quickcount").status_code == 403

    def test_reserve_replaces_an_unreachable_station_by_the_rule(self, ctx, tmp_path):
        assert (
            upload(ctx, "coordinator", ctx.election_id, small_sample(tmp_path)).status_code == 201
        )
        url = f"/api/quickcount/{ctx.election_id}/replace"
        st3, st4, st5 = ctx.stations[2], ctx.stations[3], ctx.stations[4]
        assert (
            ctx.post("coordinator", url, json={"station_id": st3, "reason": " "}).status_code == 422
        )
        r = ctx.post("coordinator", url, json={"station_id": st3, "reason": "road flooded"})
        assert r.status_code == 201, r.text
        assert (r.json()["in_station_id"], r.json()["reason"]) == (st5, "road flooded")
        assert "lowest reserve_rank" in r.json()["rule"]
        # no reserve left in S; a station that reported is kept
        r = ctx.post("coordinator", url, json={"station_id": st4, "reason": "no phone"})
        assert r.status_code == 422 and "no unused reserve left in stratum 'S'" in r.text
        copy(ctx, "coordinator", ctx.stations[0], 600, 10, 400, 200)
        r = ctx.post("coordinator", url, json={"station_id": ctx.stations[0], "reason": "late"})
        assert r.status_code == 409 and "has reported" in r.text
        with ctx.session() as s:
            actions = s.execute(
                select(m.AuditLog.entity, m.AuditLog.action).where(
                    m.AuditLog.entity.in_(["qc_sample", "qc_replacement"])
                ).order_by(m.AuditLog.seq)
            ).all()  # fmt: skip
        assert [tuple(a) for a in actions] == [
            ("qc_sample", "create"), ("qc_replacement", "create"), ("qc_sample", "replace"),
        ]  # fmt: skip
        assert verify_database(ctx.settings.database_url, ctx.settings.data_dir).ok
        with ctx.session() as s:  # an edit in the database breaks the sample's snapshot
            s.execute(update(m.QcSampleStation).values(weight=9.0).where(m.QcSampleStation.id == 1))
            s.commit()
        result = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
        assert not result.ok and any("qc_sample" in p for p in result.problems)

    @pytest.mark.parametrize("role", ["observer", "camera_watcher", "analyst", "public"])
    def test_only_staff_import_replace_and_publish(self, ctx, tmp_path, role):
        path = small_sample(tmp_path)
        assert upload(ctx, role, ctx.election_id, path).status_code == 403
        assert upload(ctx, "coordinator", ctx.election_id, path).status_code == 201
        url = f"/api/quickcount/{ctx.election_id}"
        body = {"station_id": ctx.stations[2], "reason": "x"}
        assert ctx.post(role, f"{url}/replace", json=body).status_code == 403
        assert ctx.post(role, f"{url}/publish").status_code == 403
        reads = 200 if role == "analyst" else 403
        assert ctx.get(role, f"{url}/sample").status_code == reads
        assert ctx.get(role, f"{url}/status").status_code == reads


# ---- the live status on a larger election --------------------------------------------------------

N_STATIONS = 40


def big_election(ctx, tmp_path) -> tuple[int, dict[str, int], object]:
    """A 40-station election (regions E, W; Alpha ~60 %) imported next to the conftest's, and a
    registered sample of 8 primaries (4 per region) and 2 reserves per region."""
    rng = np.random.default_rng(5)
    reg = rng.integers(800, 1200, N_STATIONS)
    valid = (reg * 0.6).astype(int)
    alpha = (valid * rng.uniform(0.55, 0.65, N_STATIONS)).astype(int)
    e = Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=np.full(N_STATIONS, 10),
        votes={"Alpha": alpha, "Beta": valid - alpha},
        station_ids=[f"B{i:02d}" for i in range(N_STATIONS)],
        hierarchy={"region": np.array(["E"] * 20 + ["W"] * 20)},
    )
    with ctx.session() as s:
        row = import_election(s, e, actor_id=ctx.users["admin"], name="big")
        s.commit()
        eid = row.id
        ids = dict(
            s.execute(
                select(m.Station.code, m.Station.id).where(m.Station.election_id == eid)
            ).all()
        )
    rows = []
    for h, base in (("E", 0), ("W", 20)):
        rows += [
            SampledStation(f"B{base + i:02d}", h, "primary", None, 20, 4, 5.0) for i in range(4)
        ]
        rows += [
            SampledStation(f"B{base + 4 + r:02d}", h, "reserve", r + 1, 20, 4, 5.0)
            for r in range(2)
        ]
    path = tmp_path / "big.csv"
    write_sample(path, rows, seed=1, strata_by=["region"], design={**DESIGN, "n": 8}, created_at=AT)
    assert upload(ctx, "coordinator", eid, path).status_code == 201
    return eid, ids, e


def backdate(ctx, sub_id: int, minutes: int) -> None:
    at = dt.datetime(2026, 12, 6, 18, 0) + dt.timedelta(minutes=minutes)
    with ctx.session() as s:
        s.execute(update(m.Submission).where(m.Submission.id == sub_id).values(created_at=at))
        s.commit()


class TestLive:
    def file(self, ctx, e, ids, code: str, **change) -> int:
        i = int(code[1:])
        v, a = int(e.table["valid"][i]), int(e.table["cand_00"][i])
        numbers = {"valid": v, "invalid": 10, **change}
        body = {"client_id": ctx.new_id(), "station_id": ids[code], "numbers": numbers,
                "votes": {"Alpha": a, "Beta": v - a}}  # fmt: skip
        r = ctx.post("coordinator", "/api/protocols", json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def test_status_counts_only_the_sample_and_converges(self, ctx, tmp_path):
        eid, ids, e = big_election(ctx, tmp_path)
        url = f"/api/quickcount/{eid}/status"
        st = ctx.get("coordinator", url).json()
        assert (st["sampled"], st["reported"], st["estimate"]) == (8, 0, None)
        order = ["B00", "B20", "B01", "B21", "B02", "B22", "B03"]
        for k, code in enumerate(order):
            backdate(ctx, self.file(ctx, e, ids, code), 20 * k)
        backdate(ctx, self.file(ctx, e, ids, "B10"), 5)  # not in the sample
        backdate(ctx, self.file(ctx, e, ids, "B23", valid=1), 200)  # fails the arithmetic
        st = ctx.get("coordinator", url, params={"bucket_minutes": 30}).json()
        assert (st["sampled"], st["reported"]) == (8, 7)
        assert [(s["stratum"], s["reported"], s["sampled"], s["quarantined"]) for s in st["strata"]] == [
            ("E", 4, 4, 0), ("W", 3, 4, 1),
        ]  # fmt: skip
        assert [x["station"] for x in st["off_sample"]] == ["B10"]
        (q,) = st["quarantined"]
        assert q["station"] == "B23" and "candidate votes" in q["problems"][0]
        assert [b["cumulative"] for b in st["buckets"]] == [2, 3, 5, 6, 7]  # 18:30, 19:00, …
        # the estimate after each bucket is the library's on the reports arrived by then
        counted = [c for c in order]
        alpha = e.table["cand_00"].to_numpy()
        valid = e.table["valid"].to_numpy()
        idx = [int(c[1:]) for c in counted]
        # every stratum reports in proportion: the ratio of totals within strata, weighted
        exp = sum(5 * alpha[i] for i in idx if i < 20) * 4 / 4 + sum(
            20 / 3 * alpha[i] for i in idx if i >= 20
        )
        exp /= sum(5 * valid[i] for i in idx if i < 20) + sum(
            20 / 3 * valid[i] for i in idx if i >= 20
        )
        assert st["estimate"]["quantities"][0]["name"] == "Alpha"
        assert st["estimate"]["quantities"][0]["estimate"] == pytest.approx(exp, rel=1e-9)
        assert st["buckets"][-1]["shares"]["Alpha"] == pytest.approx(exp, rel=1e-9)
        final_moe = st["estimate"]["quantities"][0]["moe"]
        assert st["buckets"][-1]["margins"]["Alpha"] == pytest.approx(final_moe, rel=1e-9)
        # each bucket's estimate differs as reports arrive (not one number repeated)
        assert len({round(b["shares"]["Alpha"], 12) for b in st["buckets"]}) == 5
        assert "early" in st["early_late"] and st["early_late"]["verdict"]
        web_login(ctx.client, "analyst")  # the page shows the same status
        page = ctx.client.get(f"/quickcount?election={eid}").text
        assert '<strong id="qc-reported">7</strong>' in page and st["early_late"]["verdict"] in page
        assert f"{100 * exp:.2f} %" in page and "B10" in page and "B23" in page
        assert 'id="qc-publish"' not in page  # analysts read, staff publish

    def test_publish_freezes_signs_and_lists(self, ctx, tmp_path):
        eid, ids, e = big_election(ctx, tmp_path)
        assert ctx.post("coordinator", f"/api/quickcount/{eid}/publish").status_code == 409
        subs = [self.file(ctx, e, ids, c) for c in ("B00", "B01", "B20", "B21")]
        r = ctx.post("coordinator", f"/api/quickcount/{eid}/publish")
        assert r.status_code == 201, r.text
        pub = r.json()
        assert pub["receipt"].startswith("pwr1")
        doc = json.loads(pub["statement"])
        assert sorted(x["submission"] for x in doc["inputs"]) == sorted(subs)
        assert doc["reported"] == 4 and doc["estimate"]["quantities"][0]["name"] == "Alpha"
        self.file(ctx, e, ids, "B02")
        assert ctx.post("coordinator", f"/api/quickcount/{eid}/publish").status_code == 201
        listed = ctx.get("analyst", f"/api/quickcount/{eid}/publications").json()
        assert listed["count"] == 2 and listed["data"][1]["sha256"] == pub["sha256"]
        assert json.loads(listed["data"][0]["statement"])["reported"] == 5
        keys = known_public_keys(ctx.settings.data_dir)
        with ctx.session() as s:
            rows = s.scalars(select(m.QcPublication).order_by(m.QcPublication.id)).all()
            assert all(verify_publication(r, keys) for r in rows)
            rows[0].statement = rows[0].statement.replace('"reported":4', '"reported":6')
            assert not verify_publication(rows[0], keys)
            s.commit()
        result = verify_database(ctx.settings.database_url, ctx.settings.data_dir)
        assert not result.ok and any("qc_publication" in p for p in result.problems)
