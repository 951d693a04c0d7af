"""``pollwatch census check``: the --json document of issue 21."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pollwatch.census.simulation import simulate_census
from pollwatch.cli import app


def test_census_check_json(tmp_path):
    night = simulate_census(5, stations=800)
    sheets = tmp_path / "sheets.csv"
    night.sheets.table.drop(["line", "usable", "ballots"]).write_csv(sheets)
    # a conflicting second sheet for one station: a finding, never counted
    first = night.sheets.table.row(0, named=True)
    with sheets.open("a", encoding="utf-8") as fh:
        fh.write(
            f"{first['station_id']},{first['Candidate A'] + 100},{first['Candidate B']},"
            f"{first['Candidate C']},{first['registered']},{first['ballots_in_boxes']}\n"
        )
    official, mapping = night.write_official(tmp_path)
    claims = tmp_path / "claims.yaml"
    claims.write_text(
        "claims:\n"
        '  - {source: CEC, quantity: winner_share, value: "60.00"}\n'
        '  - {source: CEC, quantity: "candidate_votes:Candidate B", value: "1", unit: count}\n',
        encoding="utf-8",
    )
    res = CliRunner().invoke(
        app,
        [
            "census",
            "check",
            str(sheets),
            "--official",
            str(official),
            "--official-mapping",
            str(mapping),
            "--claims",
            str(claims),
            "--json",
        ],  # fmt: skip
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert set(doc) >= {"sheets", "coverage", "totals", "estimate", "bound", "claims", "findings"}
    assert [c["verdict"] for c in doc["claims"]] == ["impossible", "impossible"]
    assert all({"quantity", "value", "verdict", "reason"} <= set(c) for c in doc["claims"])
    assert any(f["kind"] == "conflict" for f in doc["findings"])
    assert doc["sheets"]["usable"] == night.sheets.n_usable - 1
    assert doc["coverage"]["overall"]["stations"] == 800


def test_census_check_refuses_a_bad_file_with_its_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("station_id,A,B\n" + "".join(f"{i},5,5\n" for i in range(30)) + "x,5,-3\n")
    res = CliRunner().invoke(app, ["census", "check", str(bad)])
    assert res.exit_code == 1
    assert "line 32" in res.output and "B" in res.output


def test_census_check_with_a_mapping_reads_sheets_without_every_line(tmp_path):
    """Sheets in their own layout (other column names, no registered or invalid line: a
    photographed sheet need not show them) read through --mapping: counted like the plain
    format, not refused for the lines an official file must have."""
    night = simulate_census(5, stations=400)
    plain = night.sheets.table.drop(["line", "usable", "ballots"])
    plain_csv = tmp_path / "plain.csv"
    plain.write_csv(plain_csv)
    # a sheets-only line (ballots_in_boxes) is no model field: it keeps its own name
    own = plain.drop("registered").rename({"station_id": "PEC", "Candidate A": "A."})
    own_csv = tmp_path / "own.csv"
    own.write_csv(own_csv)
    mapping = tmp_path / "sheets.toml"
    mapping.write_text(
        '[station]\nid = ["PEC"]\n'
        '[fields]\nregistered = "Voters on the list"\n'
        'invalid = { contains = ["invalid"] }\n'
        '[derive]\nvalid = "sum(candidates)"\n'  # the parser asks for valid; the sheets lack it
        '[candidates]\ncolumns = [{ column = "A.", name = "Candidate A" }, "Candidate B", '
        '"Candidate C"]\n',
        encoding="utf-8",
    )
    official, omap = night.write_official(tmp_path)
    common = ["--official", str(official), "--official-mapping", str(omap), "--json"]
    runner = CliRunner()
    via = runner.invoke(app, ["census", "check", str(own_csv), "--mapping", str(mapping), *common])
    assert via.exit_code == 0, via.output
    direct = runner.invoke(app, ["census", "check", str(plain_csv), *common])
    assert direct.exit_code == 0, direct.output
    a, b = json.loads(via.output), json.loads(direct.output)
    assert a["totals"] == b["totals"] and a["coverage"] == b["coverage"]
    # a mapping naming a station id column the file lacks: refused with file, line, column
    text = mapping.read_text(encoding="utf-8")
    mapping.write_text(text.replace('id = ["PEC"]', 'id = ["Station"]'), encoding="utf-8")
    bad = runner.invoke(app, ["census", "check", str(own_csv), "--mapping", str(mapping), *common])
    assert bad.exit_code == 1 and "own.csv" in bad.output and '"Station"' in bad.output
    # a mapping file that is itself wrong: a usage error naming it
    mapping.write_text('[station]\nid = ["PEC"]\n[candidates]\nrest = true\n', encoding="utf-8")
    bad = runner.invoke(app, ["census", "check", str(own_csv), "--mapping", str(mapping), *common])
    assert bad.exit_code == 2 and "sheets.toml" in bad.output
