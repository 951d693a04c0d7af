"""Collected sheets: blanks stay missing, doubtful sheets are findings and never counted."""

from __future__ import annotations

import polars as pl
import pytest

from pollwatch.census import read_sheets, sheets_from_frame
from pollwatch.errors import InputDataError


def _sheets(rows: str, tmp_path):
    p = tmp_path / "sheets.csv"
    p.write_text(rows, encoding="utf-8")
    return read_sheets(p)


def test_blank_cell_is_missing_not_zero(tmp_path):
    s = _sheets("station_id,region,A,B\n1,North,10,5\n2,North,,7\n3,South,4,4\n", tmp_path)
    assert s.candidates == ("A", "B") and s.levels == ("region",)
    assert s.table.filter(pl.col("station_id") == "2")["A"][0] is None
    assert set(s.usable["station_id"]) == {"1", "3"}
    (f,) = s.findings
    assert f.kind == "incomplete" and f.station_id == "2" and "A" in f.detail and f.rows == (3,)


def test_same_numbers_twice_is_one_sheet_different_numbers_is_a_conflict(tmp_path):
    s = _sheets(
        "station_id,A,B\n1,10,5\n1,10,5\n2,8,1\n2,80,1\n3,4,4\n",
        tmp_path,
    )
    kinds = {f.station_id: f.kind for f in s.findings}
    assert kinds == {"1": "duplicate", "2": "conflict"}
    assert sorted(s.usable["station_id"]) == ["1", "3"]  # the conflict is not counted at all
    conflict = next(f for f in s.findings if f.kind == "conflict")
    assert "line 4" in conflict.detail and "line 5" in conflict.detail


def test_arithmetic_failure_is_a_finding(tmp_path):
    s = _sheets(
        "station_id,A,B,valid,registered\n1,10,5,15,100\n2,10,5,16,100\n3,90,20,110,100\n", tmp_path
    )
    kinds = {f.station_id: f.kind for f in s.findings}
    assert kinds == {"2": "arithmetic", "3": "arithmetic"}
    assert list(s.usable["station_id"]) == ["1"]


def test_a_typo_in_a_count_names_file_line_and_column(tmp_path):
    with pytest.raises(InputDataError) as exc:
        _sheets(
            "station_id,A,B\n" + "".join(f"{i},{i},1\n" for i in range(1, 20)) + "20,1O,1\n",
            tmp_path,
        )
    issue = exc.value.issues[0]
    assert (issue.line, issue.column, issue.value) == (21, "A", "1O")
    assert "sheets.csv" in str(exc.value)


def test_no_station_id_is_refused():
    with pytest.raises(InputDataError, match="station_id"):
        sheets_from_frame(pl.DataFrame({"A": [1], "B": [2]}))
