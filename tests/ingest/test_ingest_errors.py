"""Ingest: one test per error message, every problem collected, formats and encodings."""

from __future__ import annotations

import io
import zipfile

import polars as pl
import pytest

from pollwatch.errors import ConfigError, IngestError
from pollwatch.ingest import read_election

MAPPING = """
[station]
id = ["pec"]
hierarchy = ["district"]
[fields]
registered = "reg"
valid = "valid"
invalid = "invalid"
[candidates]
columns = ["A", "B"]
"""
HEADER = "district,pec,reg,valid,invalid,A,B\n"


@pytest.fixture
def mapping(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text(MAPPING, encoding="utf-8")
    return p


def _csv(tmp_path, body: str, name: str = "r.csv", encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_bytes((HEADER + body).encode(encoding))
    return p


def test_non_numeric_count_names_file_line_column_value(tmp_path, mapping):
    p = _csv(tmp_path, "D,1,100,60,2,40,20\nD,2,100,6o,2,40,20\n")
    with pytest.raises(IngestError) as exc:
        read_election(p, mapping=mapping)
    (issue,) = exc.value.issues
    assert (issue.line, issue.column, issue.value) == (3, "valid", "6o")
    assert (
        f"{p}, line 3, column \"valid\": valid is not a count: expected a whole number (count), got '6o'"
        in str(exc.value)
    )


def test_every_problem_is_collected(tmp_path, mapping):
    p = _csv(tmp_path, "D,1,x,60,2,40,20\nD,2,100,60,?,40,20\nD,3,100,60,2,40,2.5\n")
    with pytest.raises(IngestError) as exc:
        read_election(p, mapping=mapping)
    got = sorted((i.line, i.column) for i in exc.value.issues)
    assert got == [(2, "reg"), (3, "invalid"), (4, "B")]
    assert "3 problems found" in str(exc.value)


def test_missing_required_column(tmp_path, mapping):
    p = tmp_path / "r.csv"
    p.write_text("district,pec,valid,invalid,A,B\nD,1,60,2,40,20\n", encoding="utf-8")
    with pytest.raises(IngestError, match="missing required column for 'registered'") as exc:
        read_election(p, mapping=mapping)
    assert exc.value.issues[0].line == 1


def test_duplicate_station_id_names_both_lines(tmp_path, mapping):
    p = _csv(tmp_path, "D,1,100,60,2,40,20\nD,2,100,60,2,40,20\nD,1,100,60,2,40,20\n")
    with pytest.raises(IngestError, match=r"line 4.*duplicate station id.*first seen on line 2"):
        read_election(p, mapping=mapping)


def test_empty_station_id(tmp_path, mapping):
    p = _csv(tmp_path, "D,,100,60,2,40,20\n")
    with pytest.raises(IngestError, match="empty station id"):
        read_election(p, mapping=mapping)


def test_empty_required_cell_is_a_finding_and_excludes_the_station(tmp_path, mapping):
    # a blank registered count beside real results: never a silent zero, never a refusal of the file
    p = _csv(tmp_path, "D,1,,60,2,40,20\nD,2,100,60,2,40,20\n")
    e = read_election(p, mapping=mapping)
    (f,) = e.ingest_report.findings
    assert (f.line, f.column, f.kind) == (2, "reg", "warning") and "missing_counts" in f.message
    assert e.ingest_report.exclusions == {"missing_counts": 1}


def test_ambiguous_mapping_is_ranked_by_meaning(tmp_path):
    # "valid" is in both "valid" and "invalid": the column that means valid ballots wins, with a warning
    m = tmp_path / "m.toml"
    m.write_text(
        MAPPING.replace('valid = "valid"', 'valid = { contains = "valid" }'), encoding="utf-8"
    )
    p = _csv(tmp_path, "D,1,100,60,2,40,20\n")
    e = read_election(p, mapping=m)
    assert e.ingest_report.columns["valid"] == "valid"
    assert any("matched 2 columns" in w.message for w in e.ingest_report.warnings)


def test_ambiguous_mapping_tie_names_both_columns_and_the_fix(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(
        MAPPING.replace('valid = "valid"', 'valid = { contains = "valid" }'), encoding="utf-8"
    )
    p = tmp_path / "r.csv"
    p.write_text(
        "district,pec,reg,valid_1,valid_2,invalid,A,B\nD,1,100,60,60,2,40,20\n", encoding="utf-8"
    )
    with pytest.raises(IngestError, match="field 'valid' matches 2 columns equally well") as exc:
        read_election(p, mapping=m)
    (issue,) = exc.value.issues
    assert issue.value == "valid_1 | valid_2" and '[fields] valid = "valid_1"' in issue.hint


def test_unknown_preset_lists_presets(tmp_path):
    p = _csv(tmp_path, "D,1,100,60,2,40,20\n")
    with pytest.raises(
        ConfigError, match="unknown preset 'martian'; available presets: azerbaijan_pec, russia_cec"
    ):
        read_election(p, preset="martian")


def test_bad_toml(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text("[station\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_election(_csv(tmp_path, ""), mapping=m)


def test_unknown_field_in_mapping(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(
        MAPPING.replace('invalid = "invalid"', 'invalid = "invalid"\nvotes_cast = "x"'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"unknown model fields \['votes_cast'\]"):
        read_election(_csv(tmp_path, ""), mapping=m)


def test_zip_with_two_members(tmp_path, mapping):
    p = tmp_path / "r.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("a.csv", HEADER)
        zf.writestr("b.csv", HEADER)
    with pytest.raises(IngestError, match="a .zip must hold exactly one data file"):
        read_election(p, mapping=mapping)


def test_missing_file(tmp_path):
    with pytest.raises(IngestError, match="file not found"):
        read_election(tmp_path / "nope.csv")


def test_cp1251_tsv_and_thousands(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(
        MAPPING.replace("[candidates]", '[source]\nthousands = " "\n[candidates]').replace(
            '"A", "B"', '"Иванов", "B"'
        ),
        encoding="utf-8",
    )
    p = tmp_path / "r.tsv"
    p.write_bytes(
        "district\tpec\treg\tvalid\tinvalid\tИванов\tB\nСевер\t1\t1 200\t600\t2\t400\t200\n".encode(
            "cp1251"
        )
    )
    e = read_election(p, mapping=m)
    assert e.ingest_report.encoding == "cp1251"
    assert e.totals()["registered"] == 1200 and e.leader.name == "Иванов"
    assert e.level("district").tolist() == ["Север"]


def test_xlsx_and_parquet(tmp_path, mapping):
    df = pl.DataFrame(
        {
            "district": ["D", "D"],
            "pec": [1, 2],
            "reg": [100, 200],
            "valid": [60, 100],
            "invalid": [2, 3],
            "A": [40, 50],
            "B": [20, 50],
        }
    )
    df.write_excel(tmp_path / "r.xlsx")
    df.write_parquet(tmp_path / "r.parquet")
    for name in ("r.xlsx", "r.parquet"):
        e = read_election(tmp_path / name, mapping=mapping)
        assert e.totals()["valid"] == 160 and e.station_ids.tolist() == ["1", "2"]


def test_float_counts_in_parquet_must_be_whole(tmp_path, mapping):
    pl.DataFrame(
        {
            "district": ["D"],
            "pec": [1],
            "reg": [100.0],
            "valid": [60.5],
            "invalid": [2.0],
            "A": [40.0],
            "B": [20.0],
        }
    ).write_parquet(tmp_path / "r.parquet")
    with pytest.raises(IngestError, match=r'line 2, column "valid"'):
        read_election(tmp_path / "r.parquet", mapping=mapping)


def test_unanalysable_stations_are_kept_and_counted(tmp_path, mapping):
    p = _csv(
        tmp_path,
        "D,1,100,60,2,40,20\nD,2,0,0,0,0,0\nD,3,50,0,0,0,0\nD,4,100,,,,\n".replace(
            ",,,,", ",0,0,,"
        ),
    )
    e = read_election(p, mapping=mapping)
    assert e.n_stations == 4
    assert e.ingest_report.exclusions == {"zero_registered": 1, "zero_ballots": 1, "no_results": 1}


def test_unused_columns_are_reported_not_dropped_silently(tmp_path, mapping):
    p = tmp_path / "r.csv"
    p.write_text(
        "district,pec,reg,valid,invalid,A,B,comment\nD,1,100,60,2,40,20,ok\n", encoding="utf-8"
    )
    e = read_election(p, mapping=mapping)
    assert e.ingest_report.ignored_columns == ("comment",)


def test_russian_preset_is_detected(tmp_path):
    from pollwatch.simulate import simulate_election

    paths = simulate_election(300, seed=1, layout="russia").write(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(paths["results.csv"], "results.csv")
    (tmp_path / "r.zip").write_bytes(buf.getvalue())
    e = read_election(tmp_path / "r.zip")
    assert e.ingest_report.mapping == "russia_cec" and e.meta.profile == "RU"
