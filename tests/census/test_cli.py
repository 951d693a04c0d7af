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
    official = tmp_path / "official.csv"
    night.official.table.rename({c.id: c.name for c in night.official.candidates}).drop(
        "exclusion"
    ).write_csv(official)
    mapping = tmp_path / "official.toml"
    mapping.write_text(
        '[station]\nid = ["station_id"]\nhierarchy = ["region", "urban"]\n'
        '[fields]\nregistered = "registered"\nvalid = "valid"\ninvalid = "invalid"\n'
        "[candidates]\nrest = true\n",
        encoding="utf-8",
    )
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
