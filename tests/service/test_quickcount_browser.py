"""Headless Chromium: the coordinator's quick-count page as results arrive (issue 19). The
coordinator imports the registered sample on the page; results come in over the SMS webhook
and the observers' web form one by one; after each reload the page shows the response by
stratum and the estimate changing; a reserve replaces an unreachable station; the estimate is
published, signed and listed."""

from __future__ import annotations

import httpx
import pytest

from pollwatch.quickcount.sample import sidecar_path
from pollwatch.service import crud
from pollwatch.service import models as m

from .conftest import PHONES, make_ctx  # noqa: TID252
from .test_quickcount_service import small_sample  # noqa: TID252
from .test_server import Server  # noqa: TID252
from .test_web import csp_violations, wait_until  # noqa: TID252


def sms(server, sender: str, text: str) -> dict:
    r = httpx.post(
        f"{server.url}/api/sms/webhook",
        headers={"X-Pollwatch-Secret": "s3cret"},
        data={"sender": sender, "text": text},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()


def log_in(browser, server, who: str):
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", who)
    page.fill("#password", f"{who}-pass")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def file_copy(page, server, station: int, valid: int, invalid: int, alpha: int, beta: int):
    page.goto(f"{server.url}/file/protocol?station={station}")
    page.fill("#n_valid", str(valid))
    page.fill("#n_invalid", str(invalid))
    page.fill("#v_1", str(alpha))
    page.fill("#v_2", str(beta))
    page.click("button[type=submit]")
    wait_until(page, "document.getElementById('msg').textContent.includes('Received')")


def estimate_of(page, name: str) -> str:
    return page.locator(f"#qc-estimate tr[data-name='{name}'] td.est").inner_text()


@pytest.mark.browser
@pytest.mark.slow
def test_coordinator_page_as_results_arrive(browser, tmp_path):
    ctx = make_ctx(tmp_path)
    st = ctx.stations  # codes 1..5; sample: primaries 1 (N), 3 and 4 (S); reserves 2 (N), 5 (S)
    with ctx.session() as s:
        crud.assign(s, s.get(m.User, ctx.users["admin"]), ctx.users["observer"], st[3])
        s.commit()
    path = small_sample(tmp_path)
    ctx.client.close()
    ctx.app.state.engine.dispose()
    server = Server(ctx.settings).start()
    try:
        coord = log_in(browser, server, "coordinator")
        violations = csp_violations(coord)
        coord.goto(f"{server.url}/quickcount")
        assert coord.locator("#qc-no-sample").is_visible()
        coord.set_input_files("#sample", str(path))
        coord.set_input_files("#sidecar", str(sidecar_path(path)))
        coord.click("#qc-import button[type=submit]")
        coord.wait_for_url("**/quickcount?election=*")
        assert (coord.inner_text("#qc-reported"), coord.inner_text("#qc-sampled")) == ("0", "3")
        assert coord.locator("#qc-estimate-none").is_visible()

        # 1. station 1 over SMS, from observer2's registered phone
        reply = sms(server, PHONES["observer2"], f"R{ctx.users['observer2']} 612 400 200 600")
        assert reply["ok"] and "ballots 612; 1:400 2:200; total 600" in reply["reply"]
        coord.reload()
        assert coord.inner_text("#qc-reported") == "1"
        assert coord.inner_text("#qc-strata tr[data-stratum='N'] td.reported") == "1"
        assert coord.locator("#qc-estimate-none").is_visible()  # one report: no estimate yet

        # 2. station 4 on the observer's web form (the page marks their quick-count stations)
        obs = log_in(browser, server, "observer")
        obs.goto(f"{server.url}/stations")
        assert obs.locator(".qc-mark").count() == 2  # stations 1 and 4, not reserve 2
        file_copy(obs, server, st[3], 1100, 5, 1000, 100)
        coord.reload()
        assert coord.inner_text("#qc-reported") == "2"
        assert coord.inner_text("#qc-strata tr[data-stratum='S'] td.reported") == "1"
        first = estimate_of(coord, "Alpha")
        assert first.endswith("%")

        # a copy from the reserve station 2, not in the active sample: listed, not counted
        reply = sms(server, PHONES["observer"], f"R{ctx.users['observer']} #2 520 200 300 500")
        assert reply["ok"]
        coord.reload()
        assert coord.inner_text("#qc-reported") == "2"
        assert "2" in coord.inner_text("#qc-off-sample")
        assert estimate_of(coord, "Alpha") == first

        # 3. station 3 cannot be reached: its reserve (5) by the rule, filed on the web form
        coord.select_option("#station_id", str(st[2]))
        coord.fill("#reason", "road flooded")
        coord.click("#qc-replace button[type=submit]")
        coord.wait_for_url("**/quickcount?election=*")
        assert coord.inner_text("#qc-sampled") == "3"
        file_copy(coord, server, st[4], 300, 0, 100, 200)
        coord.goto(f"{server.url}/quickcount")
        assert coord.inner_text("#qc-reported") == "3"
        assert coord.inner_text("#qc-strata tr[data-stratum='S'] td.reported") == "2"
        second = estimate_of(coord, "Alpha")
        assert second != first
        assert coord.locator("#qc-buckets tr").count() >= 2  # header + at least one bucket

        # publish: frozen, signed, listed
        coord.click("#qc-publish button[type=submit]")
        coord.wait_for_url("**/quickcount?election=*")
        published = coord.inner_text("#qc-published")
        assert "3 / 3" in published and second.replace(" %", "") in published
        assert violations == []
        with ctx.session() as s:
            (pub,) = s.query(m.QcPublication).all()
            assert '"reported":3' in pub.statement
    finally:
        server.kill()
        ctx.app.state.engine.dispose()
