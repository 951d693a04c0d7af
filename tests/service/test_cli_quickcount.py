"""``pollwatch quickcount import-sample|replace|status|publish`` against a service database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pollwatch.cli import app

from .conftest import make_ctx  # noqa: TID252
from .test_quickcount_service import small_sample  # noqa: TID252
from .test_sms_results import send  # noqa: TID252


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    for var in ("POLLWATCH_DATABASE_URL", "POLLWATCH_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)  # the commands export their options
    c = make_ctx(tmp_path)
    yield c
    c.client.close()
    c.app.state.engine.dispose()


def run(ctx, *args):
    db = ["--database", ctx.settings.database_url, "--data-dir", str(ctx.settings.data_dir)]
    return CliRunner().invoke(app, ["quickcount", *args, *db])


def test_import_results_status_replace_publish(ctx, tmp_path):
    path = small_sample(tmp_path)
    r = run(ctx, "import-sample", str(path), "--as", "observer")
    assert r.exit_code == 1 and "Not enough permissions" in r.output
    r = run(ctx, "import-sample", str(path), "--as", "coordinator")
    assert r.exit_code == 0, r.output
    assert "3 stations, 2 reserves, 2 strata" in r.output
    r = run(ctx, "import-sample", str(path), "--as", "coordinator")
    assert r.exit_code == 1 and "already has a registered sample" in r.output
    # station 1 over SMS (observer2), station 2 (a reserve, not counted yet) on the web
    assert send(ctx, f"R{ctx.users['observer2']} 612 400 200 600")["ok"]
    body = {"client_id": ctx.new_id(), "station_id": ctx.stations[1],
            "numbers": {"valid": 500, "invalid": 20}, "votes": {"Alpha": 200, "Beta": 300}}  # fmt: skip
    assert ctx.post("observer", "/api/protocols", json=body).status_code == 201
    r = run(ctx, "status", "--json")
    assert r.exit_code == 0, r.output
    st = json.loads(r.output)
    assert (st["sampled"], st["reported"], [x["station"] for x in st["off_sample"]]) == (
        3,
        1,
        ["2"],
    )
    assert st["estimate"] is None and "no estimate" in " ".join(st["notes"])
    r = run(ctx, "replace", "3", "--reason", "bridge closed", "--as", "coordinator")
    assert r.exit_code == 0 and "station 3 replaced by reserve 5" in r.output, r.output
    body = {"client_id": ctx.new_id(), "station_id": ctx.stations[3],
            "numbers": {"valid": 1100, "invalid": 5}, "votes": {"Alpha": 1000, "Beta": 100}}  # fmt: skip
    assert ctx.post("coordinator", "/api/protocols", json=body).status_code == 201
    r = run(ctx, "status")
    assert r.exit_code == 0 and "2 of 3 sampled stations reported" in r.output, r.output
    assert "stratum N" in r.output and "Alpha" in r.output
    r = run(ctx, "publish", "--as", "coordinator")
    assert r.exit_code == 0 and "published estimate 1" in r.output, r.output
    pubs = ctx.get("coordinator", f"/api/quickcount/{ctx.election_id}/publications").json()
    assert pubs["count"] == 1 and json.loads(pubs["data"][0]["statement"])["reported"] == 2
