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


@pytest.mark.parametrize(
    "name,content,message",
    [
        (
            "garbage.csv",
            bytes(range(256)) * 8,
            "cannot be read as a table: the file holds binary data",
        ),
        ("empty.csv", b"", "the file is empty"),
        (
            "bad.parquet",
            b"not a parquet file",
            "cannot be read as a table: the file is named .parquet but is not",
        ),
        (
            "bad.zip",
            b"not a zip file",
            "cannot be read as a table: the file is named .zip but is not a ZIP",
        ),
    ],
)
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
    p.write_text(
        "district,pec,reg,valid,invalid,A,B\nD,1,100,60,2,40,20\nD,,100,60,2,40,20\n",
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match="empty station id") as exc:
        read_election(p, mapping=mapping)
    assert exc.value.issues[0].line == 3


def test_comma_thousands_separator_in_quoted_cells(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(
        MAPPING.replace("[candidates]", '[source]\nthousands = ","\n[candidates]'), encoding="utf-8"
    )
    p = tmp_path / "r.csv"
    p.write_text(
        'district,pec,reg,valid,invalid,A,B\nD,1,"1,200",600,2,400,200\nD,2,"12,345","1,000",0,999,1\n',
        encoding="utf-8",
    )
    e = read_election(p, mapping=m)
    assert e.field("registered").tolist() == [1200, 12345] and e.field("valid").tolist() == [
        600,
        1000,
    ]


def test_thousands_separator_without_the_option_hints_at_it(tmp_path, mapping):
    p = tmp_path / "r.csv"
    p.write_text(
        'district,pec,reg,valid,invalid,A,B\nD,1,"1,200",600,2,400,200\n', encoding="utf-8"
    )
    with pytest.raises(IngestError, match=r"set \[source\] thousands") as exc:
        read_election(p, mapping=mapping)
    assert [(i.line, i.column, i.value) for i in exc.value.issues] == [(2, "reg", "1,200")]


def test_excel_with_counts_as_numbers(tmp_path, mapping):
    # write_excel stores numbers as numbers; ingest must accept them as counts, not as text
    df = pl.DataFrame(
        {
            "district": ["D"] * 3,
            "pec": ["1", "2", "3"],
            "reg": [100, 0, 50],
            "valid": [60, 0, 0],
            "invalid": [2, 0, 0],
            "A": [40, 0, 0],
            "B": [20, 0, 0],
        }
    )
    df.write_excel(tmp_path / "r.xlsx")
    e = read_election(tmp_path / "r.xlsx", mapping=mapping)
    assert e.n_stations == 3 and e.ingest_report.format == "xlsx"
    assert e.ingest_report.exclusions == {"zero_registered": 1, "zero_ballots": 1}


# --- files that are not a table: one plain issue, found from the bytes before any parser runs ---

HEADER = "district,pec,reg,valid,invalid,A,B\n"
_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def _refused(path, mapping) -> tuple[str, float]:
    """The single issue's text and how long the refusal took."""
    import time

    t0 = time.perf_counter()
    with pytest.raises(IngestError) as exc:
        read_election(path, mapping=mapping)
    took = time.perf_counter() - t0
    (issue,) = exc.value.issues
    assert issue.source == str(path) and issue.expected and issue.hint
    return str(issue), took


@pytest.mark.parametrize(
    "name,content,says",
    [
        (
            "scan.csv",
            _PNG,
            "cannot be read as a table: the file is a PNG image, not a results table",
        ),
        (
            "protocols.csv",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
            "the file is a PDF document, not a results table",
        ),
        (
            "results.xlsx",
            b"\x7fELF\x02\x01\x01\x00" + bytes(300),
            "the file is an executable program (ELF)",
        ),
        (
            "results.csv",
            b"MZ\x90\x00\x03" + bytes(300),
            "the file is an executable program (Windows)",
        ),
        ("noise.csv", bytes(range(256)) * 400, "the file holds binary data, not text"),
        (
            "page.csv",
            b"<!DOCTYPE html>\n<html><body><table><tr><td>1</td></tr></table></body></html>\n",
            "the file is an HTML web page",
        ),
        (
            "results.csv",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
            "an old-format or password-protected Microsoft Office file",
        ),
        ("results.csv.bz2", b"BZh91AY&SY" + bytes(100), "the file is a bzip2-compressed file"),
    ],
)
def test_binary_and_other_documents_are_named(tmp_path, mapping, name, content, says):
    p = tmp_path / name
    p.write_bytes(content)
    text, took = _refused(p, mapping)
    assert (
        says in text
        and "expected a results table: CSV/TSV text, an XLSX workbook or a Parquet file" in text
    )
    assert took < 1.0


def test_a_header_that_starts_like_a_signature_is_still_text(tmp_path):
    m = tmp_path / "m.toml"
    m.write_text(
        MAPPING.replace('"district", "pec"', '"MZ", "pec"').replace('["district"]', '["MZ"]'),
        encoding="utf-8",
    )
    p = tmp_path / "r.csv"
    p.write_text("MZ,pec,reg,valid,invalid,A,B\nD,1,100,60,2,40,20\n", encoding="utf-8")
    assert read_election(p, mapping=m).n_stations == 1


def test_png_message_in_full(tmp_path, mapping):
    p = tmp_path / "scan.csv"
    p.write_bytes(_PNG)
    text, _ = _refused(p, mapping)
    assert text == (
        f"{p}: cannot be read as a table: the file is a PNG image, not a results table: expected a results "
        "table: CSV/TSV text, an XLSX workbook or a Parquet file (or a .zip or .gz holding exactly one of "
        "those), got 'bytes 89 50 4E 47 0D 0A 1A 0A'.\n"
        "  Hint: export the results table itself (CSV or XLSX); protocols that exist only as images or PDF "
        "must be transcribed to a table first"
    )


def test_a_large_binary_file_is_refused_within_a_second(tmp_path, mapping):
    import numpy as np

    p = tmp_path / "dump.csv"
    p.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000_000, dtype=np.uint8).tobytes())
    text, took = _refused(p, mapping)
    assert "holds binary data, not text" in text and took < 1.0


@pytest.mark.parametrize(
    "content,got",
    [
        (b"", "got '0 bytes'"),
        (b"\r\n \n\t\n", "got '6 bytes of blank space'"),
        (b"\xef\xbb\xbf", "got '3 bytes of blank space'"),
    ],
)
def test_empty_file(tmp_path, mapping, content, got):
    p = tmp_path / "r.csv"
    p.write_bytes(content)
    text, _ = _refused(p, mapping)
    assert text.startswith(
        f"{p}: the file is empty: expected a header line followed by one row per polling station"
    )
    assert got in text


@pytest.mark.parametrize(
    "body",
    [
        HEADER,
        HEADER.rstrip("\n"),
        HEADER.replace("\n", "\r\n") + "\r\n",
        HEADER + ",,,,,,\n\n",
        "\ufeff" + HEADER,
        '"district","pec\nno",reg,valid\n',
    ],
)
def test_header_only_csv(tmp_path, mapping, body):
    p = tmp_path / "r.csv"
    p.write_text(body, encoding="utf-8")
    text, took = _refused(p, mapping)
    assert (
        f"{p}: the file has a header but no station rows: expected a header line followed by one row per "
        "polling station, got " in text
    )
    assert "export the full table again" in text and took < 1.0


def test_header_only_cp1251_tsv(tmp_path, mapping):
    p = tmp_path / "r.tsv"
    p.write_bytes("район\tуик\tЧисло избирателей\n".encode("cp1251"))
    text, _ = _refused(p, mapping)
    assert "has a header but no station rows" in text


def test_one_station_row_is_not_header_only(tmp_path, mapping):
    p = tmp_path / "r.csv"
    p.write_text(HEADER + "D,1,100,60,2,40,20", encoding="utf-8")  # no final newline
    assert read_election(p, mapping=mapping).n_stations == 1


def test_gzip_csv_is_read_transparently(tmp_path, mapping):
    import gzip

    p = tmp_path / "r.csv.gz"
    p.write_bytes(gzip.compress((HEADER + "D,1,100,60,2,40,20\nD,2,200,100,3,50,50\n").encode()))
    e = read_election(p, mapping=mapping)
    assert e.n_stations == 2 and e.totals()["valid"] == 160 and e.ingest_report.format == "csv"


def test_gzip_of_a_header_only_csv(tmp_path, mapping):
    import gzip

    p = tmp_path / "r.csv.gz"
    p.write_bytes(gzip.compress(HEADER.encode()))
    text, _ = _refused(p, mapping)
    assert text.startswith(f"{p}: r.csv (inside the archive) has a header but no station rows")


def test_truncated_gzip(tmp_path, mapping):
    import gzip

    p = tmp_path / "r.csv.gz"
    p.write_bytes(gzip.compress((HEADER * 50).encode())[:30])
    text, _ = _refused(p, mapping)
    assert (
        "the file is a gzip-compressed file that cannot be decompressed" in text
        and "got 'bytes 1F 8B" in text
    )


def test_zip_of_a_png(tmp_path, mapping):
    import zipfile

    p = tmp_path / "r.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("protocol.png", _PNG)
    text, _ = _refused(p, mapping)
    assert "cannot be read as a table: protocol.png (inside the archive) is a PNG image" in text


def test_zip_with_several_members_lists_them(tmp_path, mapping):
    import zipfile

    p = tmp_path / "r.zip"
    with zipfile.ZipFile(p, "w") as zf:
        for name in ("a.csv", "b.csv", "__MACOSX/._a.csv", ".DS_Store"):
            zf.writestr(name, HEADER)
    text, _ = _refused(p, mapping)
    assert text == (
        f"{p}: a .zip must hold exactly one data file: expected one member, got 'a.csv, b.csv'.\n"
        "  Hint: unpack the archive and pass the results file itself"
    )


def test_empty_zip(tmp_path, mapping):
    import zipfile

    p = tmp_path / "r.zip"
    zipfile.ZipFile(p, "w").close()
    text, _ = _refused(p, mapping)
    assert "the file is an empty .zip archive" in text


def test_xlsx_header_only_and_empty_sheet(tmp_path, mapping):
    import xlsxwriter

    pl.DataFrame(schema={"district": pl.Utf8, "pec": pl.Utf8, "reg": pl.Int64}).write_excel(
        tmp_path / "h.xlsx"
    )
    text, _ = _refused(tmp_path / "h.xlsx", mapping)
    assert 'the XLSX sheet "Sheet1" has a header but no station rows' in text
    wb = xlsxwriter.Workbook(tmp_path / "e.xlsx")
    wb.add_worksheet("Results")
    wb.close()
    text, _ = _refused(tmp_path / "e.xlsx", mapping)
    assert 'the XLSX sheet "Results" has no rows' in text and "[source] sheet" in text


def test_xlsx_sheet_chosen_by_the_mapping_is_the_one_checked(tmp_path):
    import xlsxwriter

    wb = xlsxwriter.Workbook(tmp_path / "r.xlsx")
    wb.add_worksheet("Notes").write_row(0, 0, ["only a title"])
    data = wb.add_worksheet("Data")
    data.write_row(0, 0, ["district", "pec", "reg", "valid", "invalid", "A", "B"])
    data.write_row(1, 0, ["D", "1", 100, 60, 2, 40, 20])
    wb.close()
    m = tmp_path / "m.toml"
    m.write_text(
        MAPPING.replace("[candidates]", '[source]\nsheet = "Data"\n[candidates]'), encoding="utf-8"
    )
    assert read_election(tmp_path / "r.xlsx", mapping=m).n_stations == 1
    m.write_text(MAPPING, encoding="utf-8")
    text, _ = _refused(tmp_path / "r.xlsx", m)
    assert 'the XLSX sheet "Notes" has a header but no station rows' in text


def test_parquet_with_no_rows(tmp_path, mapping):
    p = tmp_path / "r.parquet"
    pl.DataFrame(schema={"district": pl.Utf8, "pec": pl.Utf8, "reg": pl.Int64}).write_parquet(p)
    text, _ = _refused(p, mapping)
    assert "has a header but no station rows (a Parquet file with 3 columns and 0 rows)" in text


def test_utf16_text_is_read(tmp_path, mapping):
    p = tmp_path / "r.txt"
    p.write_bytes((HEADER + "D,1,100,60,2,40,20\n").encode("utf-16"))
    assert read_election(p, mapping=mapping).totals()["registered"] == 100
