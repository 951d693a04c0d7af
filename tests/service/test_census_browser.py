"""Headless Chromium: double-blind transcription with arbitration (issue 21). The coordinator
uploads a protocol photo on the census page; two volunteers type it on the transcription page,
each seeing the photo beside an empty form, and differ in one box; the coordinator opens the
arbitration page, sees that box (only that one) highlighted beside the machine reading, enters
the number, and the sheet is accepted and appears in the export."""

from __future__ import annotations

import csv
import io

import pytest

from .conftest import make_ctx  # noqa: TID252
from .test_census_transcription import CANDS, FIELDS, TRUE, add_transcribers, photo  # noqa: TID252
from .test_quickcount_browser import log_in  # noqa: TID252
from .test_server import Server  # noqa: TID252
from .test_web import csp_violations, wait_until  # noqa: TID252


def type_sheet(page, server, values: dict) -> None:
    page.goto(f"{server.url}/census/transcribe")
    assert page.locator("#census-photo").is_visible()
    wait_until(page, "document.getElementById('census-photo').naturalWidth > 0")
    for i, f in enumerate(FIELDS):
        box = page.locator(f"#n_{i}")
        assert box.get_attribute("data-field") == f and box.input_value() == ""  # blind
        box.fill(str(values[f]))
    page.click("#census-transcription button[type=submit]")
    page.wait_for_url("**/census/transcribe?saved=1")
    assert page.locator("#census-nothing").is_visible()  # one sheet each, never twice


@pytest.mark.browser
@pytest.mark.slow
def test_double_blind_transcription_with_arbitration(browser, tmp_path):
    ctx = make_ctx(tmp_path)
    add_transcribers(ctx, "t1", "t2")
    image = tmp_path / "protocol.jpg"
    image.write_bytes(photo("1", 11, qr=True))
    ctx.client.close()
    ctx.app.state.engine.dispose()
    server = Server(ctx.settings).start()
    try:
        coord = log_in(browser, server, "coordinator")
        violations = csp_violations(coord)
        coord.goto(f"{server.url}/census")
        coord.set_input_files("#files", str(image))
        coord.select_option("#station_id", str(ctx.stations[0]))
        coord.click("#census-upload button[type=submit]")
        coord.wait_for_url("**/census?election=*")
        assert coord.inner_text("#census-n") == "1"

        t1 = log_in(browser, server, "t1")
        assert "/census/transcribe" in t1.url  # a transcriber's home
        type_sheet(t1, server, TRUE)
        t2 = log_in(browser, server, "t2")
        type_sheet(t2, server, {**TRUE, "Beta": 2000})

        coord.goto(f"{server.url}/census")
        assert coord.inner_text("#census-n-arbitration") == "1"
        coord.click("#census-sheets a.arbitrate")
        coord.wait_for_url("**/census/arbitrate/*")
        differs = coord.locator("#census-compare tr.differs")
        assert differs.count() == 1 and differs.get_attribute("data-field") == "Beta"
        cells = differs.locator("td.typed").all_inner_texts()
        assert cells == ["200", "2000"]
        assert differs.locator("td.machine").inner_text().startswith("200 (100")  # QR reading
        bg = coord.evaluate(
            "getComputedStyle(document.querySelector('#census-compare tr.differs td')).backgroundColor"
        )
        assert bg not in ("rgba(0, 0, 0, 0)", "transparent")  # highlighted by the stylesheet
        beta = FIELDS.index("Beta")
        assert coord.input_value(f"#n_{beta}") == ""  # the arbiter decides, nothing pre-filled
        assert coord.input_value(f"#n_{FIELDS.index('Alpha')}") == "400"  # agreed boxes are
        coord.fill(f"#n_{beta}", "200")
        coord.click("#census-arbitration button[type=submit]")
        coord.wait_for_url("**/census?election=*")
        assert coord.inner_text("#census-n-accepted") == "1"
        assert coord.locator("#census-sheets tr[data-status=accepted]").count() == 1
        assert "0.0 %" in coord.inner_text("#census-share")  # 0 of 1 without an arbiter

        href = coord.get_attribute("#census-export", "href")
        resp = coord.request.get(f"{server.url}{href}")
        assert resp.ok
        rows = list(csv.DictReader(io.StringIO(resp.text())))
        assert [(r["station_id"], *(r[c] for c in CANDS)) for r in rows] == [("1", "400", "200")]
        assert rows[0]["note"] == "arbitrated"
        assert violations == []
    finally:
        server.kill()
