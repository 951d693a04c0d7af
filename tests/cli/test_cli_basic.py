"""CLI: ingest and validate, exit codes and error output."""

import json

from typer.testing import CliRunner

from pollwatch.cli import app

runner = CliRunner()


def _write(tmp_path, text, name="r.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


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


def test_ingest_json_with_mapping(tmp_path):
    csv = _write(
        tmp_path, "district,pec,reg,valid,invalid,A,B\nD1,1,100,60,2,40,20\nD1,2,0,0,0,0,0\n"
    )
    m = _write(tmp_path, MAPPING, "m.toml")
    r = runner.invoke(app, ["ingest", str(csv), "--mapping", str(m), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["stations"] == 2 and doc["leader"] == "A" and doc["leader_votes"] == 40
    assert doc["excluded"] == {"zero_registered": 1}


def test_ingest_bad_cell_exit_1_names_line_and_column(tmp_path):
    csv = _write(tmp_path, "district,pec,reg,valid,invalid,A,B\nD1,1,100,6x0,2,40,20\n")
    m = _write(tmp_path, MAPPING, "m.toml")
    r = runner.invoke(app, ["ingest", str(csv), "--mapping", str(m)])
    assert r.exit_code == 1
    assert 'line 2, column "valid"' in r.stderr and "'6x0'" in r.stderr


def test_unknown_layout_exit_1(tmp_path):
    csv = _write(tmp_path, "x,y\n1,2\n")
    r = runner.invoke(app, ["ingest", str(csv)])
    assert r.exit_code == 1
    assert "matches no preset" in r.stderr


def test_bad_usage_exit_2(tmp_path):
    r = runner.invoke(app, ["ingest"])
    assert r.exit_code == 2


def test_bad_mapping_exit_2(tmp_path):
    csv = _write(tmp_path, "a\n1\n")
    m = _write(tmp_path, "[fields]\nregistered = 'reg'\n", "m.toml")
    r = runner.invoke(app, ["ingest", str(csv), "--mapping", str(m)])
    assert r.exit_code == 2
    assert "must map the required fields" in r.stderr


def test_validate_csv_output(tmp_path):
    csv = _write(
        tmp_path, "district,pec,reg,valid,invalid,A,B\nD1,1,100,60,2,40,21\nD1,2,50,60,0,30,30\n"
    )
    m = _write(tmp_path, MAPPING, "m.toml")
    out = tmp_path / "f.csv"
    r = runner.invoke(app, ["validate", str(csv), "--mapping", str(m), "--csv", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "candidates_sum_valid" in text and "turnout_le_100" in text
