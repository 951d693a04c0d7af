"""Files that cannot be read as a table, and station ids with an empty part.

The last three were ingest bugs (a corrupt XLSX, a directory, an empty part of a composite
id escaped as raw exceptions or were accepted); they are fixed and stay as regressions.
"""

from __future__ import annotations

import polars as pl
import pytest

from pollwatch.errors import IngestError
from pollwatch.ingest import read_election

MAPPING = """
[station]
id = ["district", "pec"]
hierarchy = ["district"]
[fields]
registered = "reg"
valid = "valid"
invalid = "invalid"
[candidates]
columns = ["A", "B"]
"""


@pytest.fixture
def mapping(tmp_path):
    p = tmp_path / "m.toml"
    p.write_text(MAPPING, encoding="utf-8")
    return p


@pytest.mark.parametrize("name,content,message", [
    ("garbage.csv", bytes(range(256)) * 8, "cannot be read as a table: the file holds binary data"),
    ("empty.csv", b"", "the file is empty"),
    ("bad.parquet", b"not a parquet file", "cannot be read as a table: the file is named .parquet but is not"),
    ("bad.zip", b"not a zip file", "cannot be read as a table: the file is named .zip but is not a ZIP"),
])
def test_unreadable_file_is_an_ingest_error(tmp_path, mapping, name, content, message):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(IngestError, match=message) as exc:
        read_election(p, mapping=mapping)
    assert exc.value.issues[0].source == str(p)


def test_corrupt_xlsx_is_an_ingest_error(tmp_path, mapping):
    p = tmp_path / "bad.xlsx"
    p.write_bytes(b"not a workbook")
    with pytest.raises(IngestError, match="cannot be read as a table"):
        read_election(p, mapping=mapping)


def test_directory_is_an_ingest_error(tmp_path, mapping):
    d = tmp_path / "results.csv"
    d.mkdir()
    with pytest.raises(IngestError):
        read_election(d, mapping=mapping)


def test_empty_part_of_a_composite_station_id(tmp_path, mapping):
    p = tmp_path / "r.csv"
    p.write_text("district,pec,reg,valid,invalid,A,B\nD,1,100,60,2,40,20\nD,,100,60,2,40,20\n", encoding="utf-8")
    with pytest.raises(IngestError, match="empty station id") as exc:
        read_election(p, mapping=mapping)
    assert exc.value.issues[0].line == 3


def test_comma_thousands_separator_in_quoted_cells(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(MAPPING.replace("[candidates]", '[source]\nthousands = ","\n[candidates]'), encoding="utf-8")
    p = tmp_path / "r.csv"
    p.write_text('district,pec,reg,valid,invalid,A,B\nD,1,"1,200",600,2,400,200\nD,2,"12,345","1,000",0,999,1\n',
                 encoding="utf-8")
    e = read_election(p, mapping=m)
    assert e.field("registered").tolist() == [1200, 12345] and e.field("valid").tolist() == [600, 1000]


def test_thousands_separator_without_the_option_hints_at_it(tmp_path, mapping):
    p = tmp_path / "r.csv"
    p.write_text('district,pec,reg,valid,invalid,A,B\nD,1,"1,200",600,2,400,200\n', encoding="utf-8")
    with pytest.raises(IngestError, match=r"set \[source\] thousands") as exc:
        read_election(p, mapping=mapping)
    assert [(i.line, i.column, i.value) for i in exc.value.issues] == [(2, "reg", "1,200")]


def test_excel_with_counts_as_numbers(tmp_path, mapping):
    # write_excel stores numbers as numbers; ingest must accept them as counts, not as text
    df = pl.DataFrame({"district": ["D"] * 3, "pec": ["1", "2", "3"], "reg": [100, 0, 50], "valid": [60, 0, 0],
                       "invalid": [2, 0, 0], "A": [40, 0, 0], "B": [20, 0, 0]})
    df.write_excel(tmp_path / "r.xlsx")
    e = read_election(tmp_path / "r.xlsx", mapping=mapping)
    assert e.n_stations == 3 and e.ingest_report.format == "xlsx"
    assert e.ingest_report.exclusions == {"zero_registered": 1, "zero_ballots": 1}
