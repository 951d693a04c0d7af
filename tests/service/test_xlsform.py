"""XLSForm import (issue 22): a small XLSForm built here with openpyxl becomes a checklist the
service's loader accepts and the filing page renders; a bad one is refused with every problem
named by sheet, row and column."""

from __future__ import annotations

import io

import openpyxl
import pytest
import yaml

from pollwatch.service import forms
from pollwatch.service.sms import parse_sms
from pollwatch.service.xlsform import XLSFormError, convert

from .test_web import login  # noqa: TID252

LABELS = ["label::English (en)", "label::Azerbaijani (az)", "label::Russian (ru)"]


def workbook(survey: list[list], choices: list[list] | None = None, settings: dict | None = None) -> bytes:  # fmt: skip
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", *LABELS, "required", "constraint", "relevant"])
    for row in survey:
        ws.append(row)
    wc = wb.create_sheet("choices")
    wc.append(["list_name", "name", *LABELS])
    for row in choices or []:
        wc.append(row)
    st = wb.create_sheet("settings")
    settings = settings if settings is not None else {"form_title": "Arrival", "form_id": "arrival", "prefix": "AR", "version": "2026120501"}  # fmt: skip
    st.append(list(settings))
    st.append(list(settings.values()))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD_SURVEY = [
    ["begin_group", "g1", "Arrival", "Gəliş", "Прибытие", "", "", ""],
    ["note", "intro", "Read first", "Əvvəlcə oxuyun", "Сначала прочтите", "", "", ""],
    ["time", "arrived", "Time you arrived", "Gəlmə vaxtı", "Время прибытия", "yes", "", ""],
    ["select_one yn", "admitted", "Admitted?", "Buraxıldınızmı?", "Допустили?", "yes", "", ""],
    [
        "integer",
        "ballots",
        "Ballots received",
        "Bülletenlər",
        "Бюллетени",
        "yes",
        ". >= 0 and . < 5000",
        "",
    ],  # fmt: skip
    ["decimal", "turnout", "Turnout %", "Fəallıq %", "Явка %", "no", ". >= 0 and . <= 100", ""],
    ["select_one cam", "camera", "Camera", "Kamera", "Камера", "no", "", ""],
    ["select_multiple prob", "problems", "Problems", "Problemlər", "Проблемы", "no", "", ""],
    ["date", "day", "Date", "Tarix", "Дата", "", "", ""],
    ["text", "notes", "Notes", "Qeydlər", "Заметки", "", "", ""],
    ["end_group", "", "", "", "", "", "", ""],
]
GOOD_CHOICES = [
    ["yn", "yes", "Yes", "Bəli", "Да"],
    ["yn", "no", "No", "Xeyr", "Нет"],
    ["cam", "working", "Working", "İşləyir", "Работает"],
    ["cam", "absent", "Absent", "Yoxdur", "Нет"],
    ["prob", "queue", "Queue", "Növbə", "Очередь"],
    ["prob", "police", "Police", "Polis", "Полиция"],
]


def test_xlsform_becomes_a_checklist_the_loader_accepts(tmp_path):
    done = convert(workbook(GOOD_SURVEY, GOOD_CHOICES), source="arrival.xlsx")
    path = done.write(tmp_path)
    form = forms.load(path)
    assert (form.code, form.name) == ("AR", "arrival")
    by_id = {q.id: q for q in form.questions}
    assert [q.code for q in form.questions] == list("ABCDEFGHJ")  # no I: SMS reads it as 1
    assert by_id["arrived"].type == "time" and by_id["arrived"].required
    assert by_id["admitted"].type == "yesno"
    assert (by_id["ballots"].type, by_id["ballots"].min, by_id["ballots"].max) == ("number", 0, 4999)  # fmt: skip
    assert (by_id["turnout"].type, by_id["turnout"].max) == ("decimal", 100)
    assert by_id["camera"].options == ("working", "absent")
    assert by_id["problems__police"].type == "yesno"
    assert by_id["problems__police"].text["az"] == "Problemlər: Polis"
    assert by_id["day"].type == "date" and by_id["ballots"].text["ru"] == "Бюллетени"
    assert by_id["turnout"].parse_value("55,5") == 55.5
    with pytest.raises(ValueError, match="at most 4999"):
        by_id["ballots"].parse_value("5000")
    assert by_id["day"].parse_value("2026-12-05") == by_id["day"].parse_value("20261205") == "2026-12-05"  # fmt: skip
    # nothing dropped silently: the note, the group and the choice labels are reported
    assert any("note 'intro'" in w for w in done.warnings)
    assert any("group 'g1' flattened" in w for w in done.warnings)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc["source"]["version"] == "2026120501" and len(doc["source"]["sha256"]) == 64


def test_bad_xlsform_lists_every_problem_with_sheet_row_and_column():
    survey = [
        ["integer", "ok", "Ok", "Ok", "Ок", "yes", "", ""],
        ["foo", "weird", "W", "W", "W", "", "", ""],
        ["text", "", "No name", "Adsız", "Без имени", "", "", ""],
        ["integer", "cond", "C", "C", "C", "", ". mod 2 = 0", ""],
        ["text", "skip", "S", "S", "S", "", "", "${ok} > 0"],
    ]
    with pytest.raises(XLSFormError) as err:
        convert(workbook(survey), source="bad.xlsx")
    text = str(err.value)
    assert "survey, row 3, column A (type): unknown type 'foo'; supported: integer" in text
    assert "survey, row 4, column B (name): missing name" in text
    assert "survey, row 5, column G (constraint): constraint '. mod 2 = 0' cannot be expressed" in text  # fmt: skip
    assert "survey, row 6, column H (relevant): skip logic" in text
    assert text.startswith("bad.xlsx: ")


def test_missing_language_and_sms_code_are_reported():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label::English (en)"])
    ws.append(["text", "x", "X"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(XLSFormError) as err:
        convert(buf.getvalue(), source="x.xlsx")
    text = str(err.value)
    assert "survey, row 1: no label column for 'az'" in text
    assert "no label column for 'ru'" in text
    assert "no SMS code for the checklist" in text
    for bad_code in ("IN", "RO", "ABC"):
        with pytest.raises(XLSFormError, match=f"SMS code '{bad_code}': exactly 2 letters"):
            convert(buf.getvalue(), source="x.xlsx", code=bad_code)
    # --lang-column maps a header to a language
    ws.cell(1, 4, "label::Azərbaycan dili")
    ws.cell(1, 5, "label::Русский")
    ws.cell(2, 4, "X az")
    ws.cell(2, 5, "X ru")
    buf = io.BytesIO()
    wb.save(buf)
    done = convert(buf.getvalue(), source="x.xlsx", code="XX", lang_columns={"label::Azərbaycan dili": "az", "label::Русский": "ru"})  # fmt: skip
    assert done.checklist["questions"][0]["text"] == {"en": "X", "az": "X az", "ru": "X ru"}


def test_forms_directory_replaces_the_shipped_checklists(tmp_path):
    convert(workbook(GOOD_SURVEY, GOOD_CHOICES), source="arrival.xlsx").write(tmp_path)
    try:
        forms.use_directory(tmp_path)
        assert list(forms.forms()) == ["arrival"]
        assert forms.by_code("AR").name == "arrival"
        # the SMS intake reads the imported checklist: 2-letter code, letters without I/L/O
        sms = parse_sms("AR12 A0710 B1 C800 D50 E2 F1 G0 H20261205")
        assert sms.form == "arrival", sms
        assert sms.answers == {"arrived": "07:10", "admitted": True, "ballots": 800, "turnout": 50.0, "camera": "absent", "problems__queue": True, "problems__police": False, "day": "2026-12-05"}  # fmt: skip
        (tmp_path / "dup.yaml").write_text((tmp_path / "arrival.yaml").read_text().replace("name: arrival", "name: dup"))  # fmt: skip
        forms.forms.cache_clear()
        with pytest.raises(ValueError, match="share the code 'AR'"):
            forms.forms()
    finally:
        forms.use_directory(None)
    assert "opening" in forms.forms()


def test_import_through_the_api_renders_and_files(ctx, tmp_path):
    data = workbook(GOOD_SURVEY, GOOD_CHOICES)
    up = {"file": ("arrival.xlsx", data, "application/octet-stream")}
    assert ctx.post("coordinator", "/api/forms/import", files=up).status_code == 403
    r = ctx.post("admin", "/api/forms/import", files=up)
    assert r.status_code == 409 and "POLLWATCH_FORMS_DIR" in r.text  # never the package's own
    bad = workbook([["foo", "x", "X", "X", "X", "", "", ""]])
    r = ctx.post("admin", "/api/forms/import", files={"file": ("bad.xlsx", bad, "x")})
    assert r.status_code == 422 and "survey, row 2, column A (type): unknown type 'foo'" in r.text
    ctx.settings.forms_dir = tmp_path / "forms"
    try:
        r = ctx.post("admin", "/api/forms/import", files=up)
        assert r.status_code == 200, r.text
        assert r.json()["written"] == "arrival.yaml"
        forms.use_directory(ctx.settings.forms_dir)
        assert list(forms.forms()) == ["arrival"]
        assert ctx.get("observer", "/api/forms/arrival").json()["code"] == "AR"
        login(ctx.client, "observer")
        page = ctx.client.get(f"/file/checklist/arrival?station={ctx.stations[0]}")
        assert page.status_code == 200, page.text
        assert "Ballots received" in page.text and 'type="date"' in page.text
        assert 'step="any"' in page.text and '<option value="working">working</option>' in page.text
        ctx.client.cookies.clear()
        answers = {"arrived": "07:10", "admitted": True, "ballots": 800, "turnout": "41.5", "day": "2026-12-05"}  # fmt: skip
        r = ctx.post("observer", "/api/checklists", json=ctx.checklist(ctx.stations[0], form="arrival", **answers))  # fmt: skip
        assert r.status_code in (200, 201), r.text
        answers["ballots"] = 5000  # the constraint '. < 5000'
        r = ctx.post("observer", "/api/checklists", json=ctx.checklist(ctx.stations[0], form="arrival", **answers))  # fmt: skip
        assert r.status_code == 422 and "at most 4999" in r.text
    finally:
        forms.use_directory(None)


def test_cli_forms_import_and_list(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pollwatch.cli import app

    monkeypatch.delenv("POLLWATCH_FORMS_DIR", raising=False)
    src = tmp_path / "arrival.xlsx"
    src.write_bytes(workbook(GOOD_SURVEY, GOOD_CHOICES))
    r = CliRunner().invoke(app, ["forms", "import", str(src)])
    assert r.exit_code == 1 and "no forms directory" in r.output
    r = CliRunner().invoke(app, ["forms", "import", str(src), "--dry-run"])
    assert r.exit_code == 0 and "code: AR" in r.output
    out = tmp_path / "forms"
    r = CliRunner().invoke(app, ["forms", "import", str(src), "--forms-dir", str(out)])
    assert r.exit_code == 0, r.output
    assert f"wrote {out / 'arrival.yaml'} (checklist 'arrival', SMS code AR, 9 questions)" in r.output  # fmt: skip
    try:
        r = CliRunner().invoke(app, ["forms", "list", "--forms-dir", str(out)])
        assert r.exit_code == 0 and r.output.startswith("arrival\tAR\t9 questions")
    finally:
        forms.use_directory(None)
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(workbook([["text", "", "A", "B", "C", "", "", ""]]))
    r = CliRunner().invoke(app, ["forms", "import", str(bad), "--forms-dir", str(out)])
    assert r.exit_code == 1 and "survey, row 2, column B (name): missing name" in r.output


def test_xlsform_admin_page_dry_run(ctx):
    login(ctx.client, "admin")
    up = {"file": ("arrival.xlsx", workbook(GOOD_SURVEY, GOOD_CHOICES), "application/octet-stream")}  # fmt: skip
    r = ctx.client.post("/people/forms", data={"dry_run": "1"}, files=up)
    assert r.status_code == 200 and "C. ballots (number)" in r.text and "note &#39;intro&#39;" in r.text  # fmt: skip
    bad = {"file": ("bad.xlsx", workbook([["foo", "x", "X", "X", "X", "", "", ""]]), "x")}
    r = ctx.client.post("/people/forms", data={"dry_run": "1"}, files=bad)
    assert r.status_code == 422 and "survey, row 2, column A (type): unknown type &#39;foo&#39;" in r.text  # fmt: skip
