"""The Russian preset and RU profile on the 2011 header wording (tests/fixtures, no real data needed)."""

import io
import zipfile
from pathlib import Path

import pytest

from pollwatch.ingest import read_election
from pollwatch.validate import validate

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ru2011_layout_sample.csv"


@pytest.fixture(params=["utf-8 csv", "cp1251 csv", "zip"])
def sample(request, tmp_path):
    if request.param == "utf-8 csv":
        return FIXTURE
    text = FIXTURE.read_text(encoding="utf-8")
    if request.param == "cp1251 csv":
        p = tmp_path / "sample.csv"
        p.write_bytes(text.encode("cp1251"))
        return p
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("2011.csv", text.encode("utf-8"))
    p = tmp_path / "sample.csv.zip"
    p.write_bytes(buf.getvalue())
    return p


def test_preset_reads_the_2011_wording(sample):
    e = read_election(sample)
    r = e.ingest_report
    assert r.mapping == "russia_cec" and e.meta.profile == "RU" and r.ignored_columns == ("url",)
    assert len(e.candidates) == 7 and r.rows == 4
    # doubled quotes inside the quoted header are unescaped
    assert e.leader.name == '6. Всероссийская политическая партия "ЕДИНАЯ РОССИЯ"'
    assert e.totals()["registered"] == 4540 and e.totals()["valid"] == 1135 + 720 + 35 + 695
    assert e.field("absentee_voted").tolist() == [3, 1, 0, 0]
    assert e.station_ids.tolist()[0] == "Тестовая область/1 Тестовая/1"


def test_ru_profile_finds_only_the_stuffed_box(sample):
    f = validate(read_election(sample))
    assert {r: n for r, n in f.counts().items() if n} == {"boxes_le_issued": 1}
    row = f.for_rule("boxes_le_issued").row(0, named=True)
    assert (row["source_line"], row["expected"], row["found"]) == (5, "600", "700")
    assert {"ballots_balance_ru", "absentee_balance_ru"} <= set(f.checked)
