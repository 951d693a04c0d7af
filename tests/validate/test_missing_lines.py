"""validate: a rule whose protocol lines the file lacks is skipped, never a crash."""

from __future__ import annotations

from pollwatch.ingest import read_election
from pollwatch.validate import validate


def test_issued_without_box_lines_skips_boxes_le_issued(tmp_path):
    # ballots issued are given, ballots found in the boxes are not: boxes_le_issued cannot run
    m = tmp_path / "m.toml"
    m.write_text(
        '[station]\nid = "pec"\n[fields]\nregistered = "reg"\nvalid = "valid"\ninvalid = "invalid"\n'
        'ballots_issued_station = "issued"\n[candidates]\ncolumns = ["A", "B"]\n',
        encoding="utf-8",
    )
    p = tmp_path / "r.csv"
    p.write_text(
        "pec,reg,issued,valid,invalid,A,B\n1,100,62,60,2,40,20\n2,90,52,50,2,30,20\n",
        encoding="utf-8",
    )
    f = validate(read_election(p, mapping=m))
    assert "boxes_le_issued" in f.skipped and "ballots-in-boxes" in f.skipped["boxes_le_issued"]
    assert "turnout_le_100" in f.checked
