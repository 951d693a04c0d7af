"""The station dossier in the service with the tally-sheet census (issue 21: photo, accepted
numbers, official numbers, differences, findings) and the observers' own turnout count (issue 19:
station-level gaps with the tolerance of quickcount/turnout.py), on SQLite."""

from __future__ import annotations

from sqlalchemy import select

from pollwatch.quickcount.turnout import gap_tolerance
from pollwatch.service import models as m
from pollwatch.service.crud.dossier import census_sheets, service_dossier

from .test_census_transcription import TRUE, add_transcribers, photo, typed, upload  # noqa: TID252
from .test_web import login  # noqa: TID252

COUNTING = {
    "count_started_at": "20:00",
    "unused_cancelled_first": True,
    "ballots_shown": True,
    "protocol_posted": True,
    "copy_given": "given",
}


#: station 2's sheet: other numbers than station 1's (the same numbers on a near-identical photo
#: filed for another station would go to the arbiter as one photo counted twice)
SECOND = {**TRUE, "Alpha": 350, "Beta": 250}


def _accepted(ctx, who: str, station: int, seed: int, values: dict = TRUE) -> int:
    r = upload(ctx, who, photo(str(seed), seed, values), station=station)
    assert r.status_code == 201, r.text
    sheet = r.json()["data"][0]["id"]
    for typist in ("t1", "t2"):
        assert typed(ctx, typist, sheet, values).status_code == 201
    with ctx.session() as s:
        assert s.get(m.CensusSheet, sheet).status == m.SheetStatus.accepted
    return sheet


def _sha(ctx, sheet: int) -> str:
    with ctx.session() as s:
        media = s.execute(
            select(m.Media)
            .join(m.CensusSheet, m.CensusSheet.media_id == m.Media.id)
            .where(m.CensusSheet.id == sheet)
        ).scalar_one()
        return media.received_sha256 or media.sha256


def test_census_sheets_in_the_dossier(ctx):
    add_transcribers(ctx, "t1", "t2")
    # station 1's official protocol is TRUE's; station 2's differs (Alpha 200, Beta 300)
    one = _accepted(ctx, "coordinator", ctx.stations[0], 1)
    two = _accepted(ctx, "observer", ctx.stations[1], 2, SECOND)

    d1 = ctx.get("analyst", f"/api/stations/{ctx.stations[0]}/dossier").json()
    c1 = d1["census"]
    (sheet,) = c1["sheets"]
    assert sheet["sha256"] == _sha(ctx, one) and sheet["resolution"] == "agreed"
    assert sheet["votes"] == {"Alpha": 400, "Beta": 200}
    assert sheet["numbers"]["valid"] == 600 and sheet["numbers"]["invalid"] == 10
    assert sheet["photo_url"] == f"/census/photo/{one}"
    assert c1["differences"] == [] and c1["compared"] is True
    assert "tally-sheet census" in d1["disagree"]

    d2 = ctx.get("coordinator", f"/api/stations/{ctx.stations[1]}/dossier").json()
    c2 = d2["census"]
    diffs = {x["field"]: x for x in c2["differences"]}
    assert diffs["Alpha"]["kind"] == "sheet_above_official"  # 350 on the sheet, 200 official
    assert (diffs["Alpha"]["sheet"], diffs["Alpha"]["official"], diffs["Alpha"]["difference"]) == (350, 200, -150)  # fmt: skip
    assert diffs["Beta"]["kind"] == "official_above_sheet"  # 250 on the sheet, 300 official
    # a protocol line is not votes lost or added: its own kind
    assert (diffs["valid"]["official"], diffs["valid"]["sheet"], diffs["valid"]["kind"]) == (500, 600, "line_differs")  # fmt: skip
    assert set(c2["kinds"]) == {"sheet_above_official", "official_above_sheet", "line_differs"}
    assert "tally-sheet census" in d2["agree"]
    flags = [e for e in d2["evidence"] if e["source"] == "tally-sheet census"]
    assert flags and all(e["strength"] == "hard" and e["direction"] == "flags" for e in flags)
    lost = [e["text"] for e in flags if "fewer votes than the protocol signed" in e["text"]]
    assert len(lost) == 1 and "Alpha sheet 350 vs official 200" in lost[0]
    assert "valid" not in lost[0] and "registered" not in lost[0]
    assert any(e["text"].startswith("protocol lines of the official table differ") for e in flags)

    # the page shows the photo's hash, its link, the numbers beside the official ones
    login(ctx.client, "coordinator")
    page = ctx.client.get(f"/stations/{ctx.stations[1]}/dossier").text
    assert _sha(ctx, two) in page and f'href="/census/photo/{two}"' in page
    assert 'class="flag mismatch sheet-above"' in page and "Tally-sheet census" in page
    assert ctx.client.get(f"/census/photo/{two}").headers["content-type"] == "image/jpeg"

    # a station without an accepted sheet: no census block
    d3 = ctx.get("analyst", f"/api/stations/{ctx.stations[3]}/dossier").json()
    assert d3["census"] is None and "tally-sheet census" not in d3["silent"]


def test_the_photo_link_follows_permissions(ctx):
    add_transcribers(ctx, "t1", "t2")
    sheet = _accepted(ctx, "coordinator", ctx.stations[0], 1)
    with ctx.session() as s:
        station = s.get(m.Station, ctx.stations[0])
        by = {n: s.get(m.User, ctx.users[n]) for n in ("analyst", "observer", "observer2", "t1")}
        urls = {n: [c.photo_url for c in census_sheets(s, station, u)] for n, u in by.items()}
        # nobody given: the hash and numbers, no link
        assert [c.photo_url for c in census_sheets(s, station, None)] == [None]
    assert urls["analyst"] == [f"/census/photo/{sheet}"]
    # neither uploader nor collector nor reader of the census; a typist who has typed it
    assert urls["observer"] == urls["observer2"] == urls["t1"] == [None]
    # the page route refuses the photo to the observer, as the dossier's link said
    login(ctx.client, "observer")
    assert ctx.client.get(f"/census/photo/{sheet}").status_code == 403


def test_observers_turnout_count_in_the_dossier(ctx):
    # station 1: protocol ballots 600 + 10 = 610; the observer counted 520: 90 more in the box
    body = ctx.checklist(ctx.stations[0], "counting", ballots_in_boxes=520, **COUNTING)
    assert ctx.post("observer", "/api/checklists", json=body).status_code == 201
    body = ctx.checklist(ctx.stations[0], "voting", voters_by_noon=200, voters_by_17=450)
    assert ctx.post("observer", "/api/checklists", json=body).status_code == 201
    d = ctx.get("analyst", f"/api/stations/{ctx.stations[0]}/dossier").json()
    ot = d["observed_turnout"]
    assert (ot["observed"], ot["protocol"], ot["gap"]) == (520, 610, 90)
    assert ot["tolerance"] == gap_tolerance(520) and ot["flagged"] is True
    assert (ot["voters_by_noon"], ot["voters_by_17"]) == (200, 450)
    assert ot["observed_turnout"] == 0.52 and ot["protocol_turnout"] == 0.61
    (e,) = [e for e in d["evidence"] if e["source"] == "observers' turnout count"]
    assert e["strength"] == "testimony" and e["direction"] == "flags"
    assert "90 more than the 520 an observer counted" in e["text"] and "not a camera" in e["text"]
    assert "observers' turnout count" in d["agree"]

    # station 2: protocol 500 + 20 = 520; the observer counted 515: within max(5, 2 % of 515)
    body = ctx.checklist(ctx.stations[1], "counting", ballots_in_boxes=515, **COUNTING)
    assert ctx.post("observer", "/api/checklists", json=body).status_code == 201
    d2 = ctx.get("analyst", f"/api/stations/{ctx.stations[1]}/dossier").json()
    assert d2["observed_turnout"]["gap"] == 5 and d2["observed_turnout"]["flagged"] is False
    assert "observers' turnout count" in d2["disagree"]

    login(ctx.client, "analyst")
    page = ctx.client.get(f"/stations/{ctx.stations[0]}/dossier").text
    assert 'id="observed-turnout"' in page and "+90" in page and "not a camera" in page


def test_service_dossier_without_a_user_gives_no_photo_link(ctx):
    add_transcribers(ctx, "t1", "t2")
    _accepted(ctx, "coordinator", ctx.stations[0], 1)
    with ctx.session() as s:
        d = service_dossier(s, ctx.stations[0], None)
    assert d.census is not None and d.census.sheets[0].photo_url is None
    assert d.census.sheets[0].sha256
