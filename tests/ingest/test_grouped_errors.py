"""IngestError groups its issues: one line per kind of problem, never one line per station."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.errors import DataIssue, IngestError, format_group, format_issues, group_issues
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


def _files(tmp_path, rows: list[str]):
    m = tmp_path / "m.toml"
    m.write_text(MAPPING, encoding="utf-8")
    p = tmp_path / "r.csv"
    p.write_text("district,pec,reg,valid,invalid,A,B\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p, m


def test_one_bad_column_on_100000_rows_is_one_line(tmp_path):
    p, m = _files(tmp_path, [f"D,{i},100,{i}.5,2,40,20" for i in range(100_000)])
    try:
        read_election(p, mapping=m)
    except IngestError as exc:
        err = exc
    else:
        raise AssertionError("a column of non-counts must be refused")
    assert len(err.issues) == 100_000  # the full list stays available
    text = str(err)
    assert len(text.splitlines()) <= 4, text
    assert "100,000 problems found" in text
    line = text.splitlines()[1]
    assert (
        f'- {p}, column "valid": valid is not a count (100,000 times); expected a whole number (count)'
        in line
    )
    assert "e.g. line 2 got '0.5'; line 3 got '1.5'; line 4 got '2.5'; … and 99,997 more." in line
    assert "Hint: counts must be whole numbers" in text
    assert [len(g) for g in err.groups] == [100_000]


def test_kinds_are_separate_lines(tmp_path):
    rows = [f"D,{i},100,60,2,40,20" for i in range(10)]
    rows[3] = "D,3,x,60,2,40,20"
    rows[5] = "D,5,y,60,2,40,20"
    rows += ["D,1,100,60,2,40,20", "D,2,100,60,2,4o,20"]
    p, m = _files(tmp_path, rows)
    try:
        read_election(p, mapping=m)
    except IngestError as exc:
        lines = str(exc).splitlines()
        assert sorted(len(g) for g in exc.groups) == [1, 2, 2]
    else:
        raise AssertionError("bad cells must be refused")
    assert lines[0] == f"{p}: 5 problems of 3 kinds found while reading:" and len(lines) == 4
    (reg,) = [x for x in lines if "registered is not a count" in x]
    assert reg.endswith(
        "(2 times); expected a whole number (count); e.g. line 5 got 'x'; line 7 got 'y'."
    )
    # a kind seen once keeps the single-issue format of DataIssue.__str__
    assert (
        f"- {p}, line 13, column \"A\": votes for 'A' are not a count: expected a whole number (count), got '4o'."
        in lines
    )
    (dup,) = [x for x in lines if "duplicate station id" in x]
    assert (
        "(2 times)" in dup
        and "line 12 got '1' (expected a unique id (first seen on line 3))" in dup
    )


def test_examples_name_their_column_when_a_kind_spans_columns():
    issues = [
        DataIssue("f.csv", "empty station id", line=i, column=c, value="", expected="a value")
        for i, c in ((2, "a"), (3, "b"), (4, "a"), (5, "b"))
    ]
    (group,) = group_issues(issues)
    assert format_group(group) == (
        'f.csv: empty station id (4 times); expected a value; e.g. line 2, column "a" '
        "got ''; line 3, column \"b\" got ''; line 4, column \"a\" got ''; … and 1 more."
    )


def test_many_kinds_are_capped():
    issues = [DataIssue("f.csv", f"problem {k}", line=k + 2) for k in range(25) for _ in range(2)]
    lines = format_issues(issues)
    assert len(lines) == 21 and lines[-1] == "… and 5 more kinds of problem (10 problems)"


def test_cli_prints_groups_and_json_has_every_issue(tmp_path):
    p, m = _files(tmp_path, [f"D,{i},100,{i}x,2,40,20" for i in range(5000)])
    runner = CliRunner()
    r = runner.invoke(app, ["ingest", str(p), "--mapping", str(m)])
    assert r.exit_code == 1
    err = r.stderr.splitlines()
    assert err[0] == f"5,000 problems in {p}:"
    assert len(err) <= 5, r.stderr
    assert "valid is not a count (5,000 times)" in err[1] and "--json" in err[-1]
    r = runner.invoke(app, ["ingest", str(p), "--mapping", str(m), "--json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["problems"] == 5000 and len(doc["issues"]) == 5000
    assert doc["kinds"][0]["count"] == 5000 and doc["kinds"][0]["column"] == "valid"
    assert [e["line"] for e in doc["kinds"][0]["examples"]] == [2, 3, 4]
    assert doc["issues"][-1] == {
        "source": str(p),
        "message": "valid is not a count",
        "line": 5001,
        "column": "valid",
        "station_id": None,
        "value": "4999x",
        "expected": "a whole number (count)",
        "hint": None,
        "kind": "error",
    }
