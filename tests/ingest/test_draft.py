"""`draft_mapping`: a commented TOML mapping from a header and a sample, that reads back right."""

from __future__ import annotations

import tomllib

import polars as pl
import pytest

from pollwatch.errors import IngestError
from pollwatch.ingest import load_mapping, read_election
from pollwatch.ingest.draft import PLACEHOLDER, draft_mapping, read_sample
from pollwatch.simulate import simulate_election


def _same_reading(a, b) -> None:
    """Two Elections read from one file agree station by station, field by field."""
    assert [c.name for c in a.candidates] == [c.name for c in b.candidates]
    assert a.meta.hierarchy == b.meta.hierarchy
    cols = sorted(a.table.columns)
    assert cols == sorted(b.table.columns)
    assert a.table.select(cols).equals(b.table.select(cols))
    assert a.totals() == b.totals()


@pytest.mark.parametrize("layout", ["russia", "azerbaijan", "generic"])
def test_draft_of_a_simulated_layout_reads_like_its_preset(tmp_path, layout):
    paths = simulate_election(400, seed=3, layout=layout).write(tmp_path)
    draft = draft_mapping(paths["results.csv"])
    m = draft.write(tmp_path / "draft.toml")
    mapping = load_mapping(m)
    reference = read_election(paths["results.csv"], mapping=paths.get("mapping.toml"))
    _same_reading(read_election(paths["results.csv"], mapping=mapping), reference)
    assert draft.sample_rows == 200 and not draft.missing_required
    assert (
        draft.preset
        == {"russia": "russia_cec", "azerbaijan": "azerbaijan_pec", "generic": None}[layout]
    )
    if (
        layout == "azerbaijan"
    ):  # the preset's option that makes 100.2.5 mean "inside the station" is kept
        assert mapping.options == {"station_issued_includes_mobile": True}


def test_generic_layout_comments(tmp_path):
    paths = simulate_election(100, seed=1, layout="generic").write(tmp_path)
    text = draft_mapping(paths["results.csv"]).text
    assert (
        '# recognised: "valid" -> valid (model field name): valid ballots\nvalid = "valid"' in text
    )
    assert (
        '# recognised: "station_id" -> station id (text, unique in the sample)\nid = ["station_id"]'
        in text
    )
    assert 'hierarchy = ["region", "constituency"]' in text
    assert (
        '# NOT recognised: column "Incumbent" (numeric) — taken as a candidate; move it to ignore if it is '
        "a protocol line"
    ) in text


RU_HEADER = (
    "Регион;ОИК;ТИК;УИК;Уровень;Адрес;"
    "Число избирателей, внесенных в список избирателей на момент окончания голосования;"
    "Число избирательных бюллетеней, полученных участковой избирательной комиссией;"
    "Число избирательных бюллетеней, выданных в помещениях для голосования;"
    "Число избирательных бюллетеней в стационарных ящиках для голосования;"
    "Число недействительных избирательных бюллетеней;Число действительных избирательных бюллетеней;"
    "Число утраченных открепительных удостоверений;Явка, %;Кол. 17;"
    "Путин Владимир Владимирович;Харитонов Николай Михайлович;Против всех\n"
)
RU_ROWS = (
    "Москва;1;ТИК №1;101;УИК;ул. Ленина, 1;1 200;1 000;600;600;10;590;0;50,8;3;400;150;40\n"
    "Москва;1;ТИК №1;102;УИК;ул. Ленина, 2;1 300;1 100;700;700;5;695;0;53,8;1;500;150;45\n"
    "Москва;2;ТИК №2;101;УИК;ул. Мира, 3;900;800;400;400;4;396;1;44,4;0;300;66;30\n"
)


def test_russian_wording_of_another_year_without_a_preset(tmp_path):
    p = tmp_path / "ru.csv"
    p.write_bytes((RU_HEADER + RU_ROWS).encode("cp1251"))
    draft = draft_mapping(p)
    assert (
        draft.preset is None
        and draft.settings["encoding"] == "cp1251"
        and draft.settings["delimiter"] == ";"
    )
    text = draft.text
    assert (
        '# recognised: "Число действительных избирательных бюллетеней" -> valid (Russian protocol wording): '
        'valid ballots\nvalid = "Число действительных избирательных бюллетеней"'
    ) in text
    assert "-> ballots_issued_station (Russian protocol wording)" in text
    assert (
        'id = ["Регион", "ОИК", "ТИК", "УИК"]' in text
        and 'hierarchy = ["Регион", "ОИК", "ТИК"]' in text
    )
    assert (
        '# recognised: "Уровень" -> level column (text values); ignored, never a candidate\n    "Уровень",'
        in text
    )
    assert '"Явка, %" -> protocol line with no model field' in text
    assert (
        '# NOT recognised: column "Кол. 17" (numeric) — taken as a candidate; move it to ignore'
        in text
    )
    assert (
        '# recognised: "Путин Владимир Владимирович" -> candidate (a person\'s name) (counts)'
        in text
    )
    assert 'thousands = " "' in text
    readings = {c.column: c for c in draft.columns}
    assert readings["Адрес"].role == "ignore" and readings["Кол. 17"].role == "candidate"
    assert [c.column for c in draft.not_recognised] == ["Кол. 17"]

    # the draft reads back; moving the unrecognised line to ignore is the one edit the comment asks for
    m = tmp_path / "ru.toml"
    m.write_text(text.replace("ignore = [\n", 'ignore = [\n    "Кол. 17",\n'), encoding="utf-8")
    e = read_election(p, mapping=m)
    assert [c.name for c in e.candidates] == [
        "Путин Владимир Владимирович",
        "Харитонов Николай Михайлович",
        "Против всех",
    ]
    assert e.totals()["registered"] == 3400 and e.totals()["valid"] == 1681
    assert e.station_ids.tolist() == [
        "Москва/1/ТИК №1/101",
        "Москва/1/ТИК №1/102",
        "Москва/2/ТИК №2/101",
    ]


def test_missing_required_field_gets_a_placeholder_that_ingest_names(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "precinct,valid ballots,invalid ballots,Alice Smith,Bob Jones\n1,90,2,50,40\n2,85,1,45,40\n",
        encoding="utf-8",
    )
    draft = draft_mapping(p)
    assert draft.missing_required == ("registered",)
    assert "# NOT recognised: no column reads as registered (voters on the list" in draft.text
    m = draft.write(tmp_path / "m.toml")
    assert load_mapping(m).fields["registered"].name == PLACEHOLDER
    with pytest.raises(IngestError, match="missing required column for 'registered'"):
        read_election(p, mapping=m)


def test_referendum_without_a_valid_line_derives_it(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "precinct,registered voters,invalid ballots,Yes,No\n1,100,2,50,40\n2,90,1,45,40\n",
        encoding="utf-8",
    )
    draft = draft_mapping(p)
    assert draft.missing_required == () and draft.derived == {"valid": "sum(candidates)"}
    assert "[derive]\n# NOT recognised: no column reads as valid" in draft.text
    assert '"Yes" -> ballot option (yes / no / against all) (counts)' in draft.text
    e = read_election(p, mapping=draft.write(tmp_path / "m.toml"))
    assert e.field("valid").tolist() == [90, 85] and [c.name for c in e.candidates] == ["Yes", "No"]


def test_long_layout_is_drafted_as_long(tmp_path):
    p = tmp_path / "long.csv"
    rows = ["district,precinct,registered,valid,invalid,candidate,party,votes"]
    for d, k, reg, valid in (("D1", 1, 100, 60), ("D1", 2, 90, 50), ("D2", 1, 120, 80)):
        rows += [
            f"{d},{k},{reg},{valid},2,Alice Smith,Reds,{valid - 20}",
            f"{d},{k},{reg},{valid},2,Bob Jones,Blues,20",
        ]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    draft = draft_mapping(p)
    assert draft.long == ("candidate", "votes", "party")
    assert (
        "[long]\n# one row per station and candidate" in draft.text
        and 'votes = "votes"' in draft.text
    )
    assert 'id = ["district", "precinct"]' in draft.text
    e = read_election(p, mapping=draft.write(tmp_path / "m.toml"))
    assert e.n_stations == 3 and [(c.name, c.party) for c in e.candidates] == [
        ("Alice Smith", "Reds"),
        ("Bob Jones", "Blues"),
    ]
    assert e.totals()["votes"] == {"Alice Smith": 130, "Bob Jones": 60}


def test_level_column_selects_the_polling_station_rows(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "region,uik,level,registered,valid,invalid,A,B\n"
        "R,,ТИК,190,110,4,70,40\nR,1,УИК,100,60,2,40,20\nR,2,УИК,90,50,2,30,20\n",
        encoding="utf-8",
    )
    draft = draft_mapping(p)
    assert 'level = { column = "level", value = "УИК" }' in draft.text
    e = read_election(p, mapping=draft.write(tmp_path / "m.toml"))
    assert e.n_stations == 2 and e.ingest_report.rows_skipped == {"level = ТИК": 1}


def test_several_contests_are_left_for_the_user_to_choose(tmp_path):
    p = tmp_path / "r.csv"
    rows = [
        f"{contest},{k},100,{60 + j},2,{40 + j},20"
        for j, contest in enumerate(("President", "Mayor"))
        for k in (1, 2, 3)
    ]
    p.write_text(
        "election,uik,registered,valid,invalid,A,B\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    draft = draft_mapping(p)
    assert (
        '# NOT recognised: "election" names the contest of each row and the sample holds 2'
        in draft.text
    )
    assert '# contest = { column = "election", value = "President" }' in draft.text
    m = draft.write(tmp_path / "m.toml")
    with pytest.raises(IngestError, match="the file holds 2 contests"):
        read_election(p, mapping=m)
    m.write_text(
        m.read_text(encoding="utf-8").replace("# contest = ", "contest = "), encoding="utf-8"
    )
    assert read_election(p, mapping=m).totals()["valid"] == 180


def test_text_decimal_and_empty_columns_are_never_candidates(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "Polling station,Station name,Registered voters,Valid votes,Invalid votes,Share (%),Notes,"
        "Green Party,Other\n"
        '1,North School,"1,200",900,10,75.0,,500,400\n'
        '2,South Hall,"2,000","1,100",12,55.0,,600,500\n',
        encoding="utf-8",
    )
    draft = draft_mapping(p)
    roles = {c.column: (c.role, c.recognised) for c in draft.columns}
    assert roles["Station name"] == ("ignore", True)
    assert roles["Share (%)"][0] == "ignore" and roles["Notes"] == ("ignore", False)
    assert roles["Green Party"] == ("candidate", True) and roles["Other"] == ("candidate", False)
    assert 'thousands = ","' in draft.text
    e = read_election(p, mapping=draft.write(tmp_path / "m.toml"))
    assert [c.name for c in e.candidates] == ["Green Party", "Other"] and e.totals()[
        "valid"
    ] == 2000


def test_two_columns_for_one_field_keep_the_first_and_say_so(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "station_id,registered,valid,invalid,Valid ballots (recount),A,B\n1,100,60,2,61,40,20\n",
        encoding="utf-8",
    )
    draft = draft_mapping(p)
    assert (
        'also reads as valid (English protocol wording), but "valid" was taken for it' in draft.text
    )
    e = read_election(p, mapping=draft.write(tmp_path / "m.toml"))
    assert e.totals()["valid"] == 60 and [c.name for c in e.candidates] == ["A", "B"]


def test_xlsx_draft_names_the_sheet(tmp_path):
    df = pl.DataFrame(
        {
            "station_id": ["1", "2"],
            "registered": [100, 200],
            "valid": [60, 100],
            "invalid": [2, 3],
            "A": [40, 50],
            "B": [20, 50],
        }
    )
    df.write_excel(tmp_path / "r.xlsx", worksheet="Results")
    draft = draft_mapping(tmp_path / "r.xlsx")
    assert (
        'sheet = "Results"' in draft.text and "encoding" not in tomllib.loads(draft.text)["source"]
    )
    assert (
        read_election(tmp_path / "r.xlsx", mapping=draft.write(tmp_path / "m.toml")).totals()[
            "valid"
        ]
        == 160
    )


def test_only_a_sample_is_read(tmp_path):
    p = tmp_path / "r.csv"
    rows = "".join(f"{i},100,60,2,40,20\n" for i in range(5000))
    p.write_text(
        "station_id,registered,valid,invalid,A,B\n" + rows + "5000,100,60,2,forty,20\n",
        encoding="utf-8",
    )
    sample, settings, more = read_sample(p, rows=50)
    assert sample.height == 50 and more and settings["format"] == "csv"
    draft = draft_mapping(p, sample_rows=50)  # the bad cell on the last line is not seen
    assert {c.column: c.role for c in draft.columns}["A"] == "candidate"
    assert "the first 50 rows (of more)" in draft.text


def test_unreadable_file_is_the_plain_ingest_error(tmp_path):
    p = tmp_path / "r.csv"
    p.write_bytes(b"%PDF-1.4\n" + bytes(200))
    with pytest.raises(IngestError, match="the file is a PDF document, not a results table"):
        draft_mapping(p)


def test_repeated_and_empty_headers_are_flagged(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(
        "station_id,registered,valid,invalid,A,,A\n1,100,60,2,40,0,20\n2,90,50,2,30,0,20\n",
        encoding="utf-8",
    )
    draft = draft_mapping(p)
    assert (
        '# NOT recognised: the header names "A" twice; the second is read as "A_duplicated_0"'
        in draft.text
    )
    assert "# NOT recognised: a column with an empty header (count values)" in draft.text
    load_mapping(draft.write(tmp_path / "m.toml"))


def test_damaged_workbook_is_an_ingest_error(tmp_path):
    import zipfile

    pl.DataFrame({"a": [1, 2]}).write_excel(tmp_path / "ok.xlsx")
    with (
        zipfile.ZipFile(tmp_path / "ok.xlsx") as zin,
        zipfile.ZipFile(tmp_path / "bad.xlsx", "w") as zout,
    ):
        for n in zin.namelist():
            data = zin.read(n)
            zout.writestr(n, data[: len(data) // 2] if n == "xl/worksheets/sheet1.xml" else data)
    with pytest.raises(IngestError, match="cannot be read as a table"):
        draft_mapping(tmp_path / "bad.xlsx")
    with pytest.raises(
        IngestError, match="not a readable XLSX workbook"
    ):  # the reader, not "no rows"
        read_election(tmp_path / "bad.xlsx", mapping=None)


# --- the layout corpus of issue 16 (pollwatch.simulate.variants): a draft reads each one right ---

_RENAMED = {
    "region": "Регион",
    "tik": "ТИК",
    "uik": "УИК",
    "url": "Ссылка",
}  # no preset detects these


@pytest.fixture(scope="module")
def corpus_sim():
    return simulate_election(240, seed=7, n_regions=4, layout="russia")


def _variant(name: str, e):
    from pollwatch.simulate import variants as v

    base = v.russia_frame(e)
    return {
        "base": lambda: base,
        "later_wording": lambda: v.later_wording(base),
        "oik": lambda: v.with_oik(base),
        "levels": lambda: v.with_levels(base),
        "no_results": lambda: v.with_no_results(base),
        "evoting": lambda: v.with_evoting(base, candidate=e.totals()["leader"]),
        "referendum": lambda: v.referendum(e),
        "long": lambda: v.long_layout(e),
        "long_items": lambda: v.long_items(e),
    }[name]()


@pytest.mark.parametrize("renamed", [False, True], ids=["preset-headers", "vocabulary-only"])
@pytest.mark.parametrize(
    "name",
    [
        "base",
        "later_wording",
        "oik",
        "levels",
        "no_results",
        "evoting",
        "referendum",
        "long",
        "long_items",
    ],
)
def test_draft_reads_every_layout_of_the_corpus(tmp_path, corpus_sim, name, renamed):
    e0 = corpus_sim.election
    truth = e0.totals()
    df = _variant(name, e0)
    if renamed and not name.startswith("long"):
        df = df.rename({k: v for k, v in _RENAMED.items() if k in df.columns})
    p = tmp_path / "results.csv"
    df.write_csv(p)
    draft = draft_mapping(p)
    assert not draft.missing_required, draft.text
    if renamed:
        assert draft.preset is None
    e = read_election(p, mapping=draft.write(tmp_path / "draft.toml"))
    ok = e.subset(e.analysable())
    t = ok.totals()
    assert ok.n_stations == 240, (e.ingest_report.exclusions, draft.text)
    assert (t["registered"], t["invalid"]) == (truth["registered"], truth["invalid"])
    if name == "long_items":  # protocol lines published as rows become fields
        assert draft.long == ("item", "count", None)
        assert {r.field for r in draft.items if r.role == "field"} == {
            "registered",
            "valid",
            "invalid",
        }
    if name == "referendum":
        assert draft.derived == {"valid": "sum(candidates)"}
        assert t["votes"]["Да"] == truth["leader_votes"] and t["valid"] == truth["valid"]
    else:
        assert t["valid"] == truth["valid"] and t["votes"] == truth["votes"]


def test_azerbaijani_line_numbers_without_a_model_field_are_ignored(tmp_path):
    paths = simulate_election(120, seed=2, layout="azerbaijan").write(tmp_path)
    df = pl.read_csv(paths["results.csv"], infer_schema=False).with_columns(
        pl.lit("0").alias("100.2.8")
    )
    df.write_csv(tmp_path / "r.csv")
    draft = draft_mapping(tmp_path / "r.csv")
    assert (
        '# recognised: "100.2.8" -> protocol line with no model field (a protocol line number); ignored, never '
        'a candidate\n    "100.2.8",'
    ) in draft.text
    e = read_election(tmp_path / "r.csv", mapping=draft.write(tmp_path / "m.toml"))
    assert [c.name for c in e.candidates] == [
        "Incumbent",
        "Challenger A",
        "Challenger B",
        "Challenger C",
    ]


def test_totals_rows_with_a_blank_id_get_a_commented_blank_id_skip(tmp_path, corpus_sim):
    from pollwatch.simulate import variants as v

    e0 = corpus_sim.election
    v.with_levels(v.russia_frame(e0)).drop("level").write_csv(
        tmp_path / "r.csv"
    )  # totals rows, no level column
    draft = draft_mapping(tmp_path / "r.csv")
    assert "row(s) of the sample have a blank part of the station id" in draft.text
    m = draft.write(tmp_path / "m.toml")
    with pytest.raises(IngestError, match="empty station id"):
        read_election(tmp_path / "r.csv", mapping=m)
    m.write_text(
        m.read_text(encoding="utf-8").replace('# blank_id = "skip"', 'blank_id = "skip"'),
        encoding="utf-8",
    )
    e = read_election(tmp_path / "r.csv", mapping=m)
    assert e.n_stations == 240 and e.totals()["votes"] == e0.totals()["votes"]
