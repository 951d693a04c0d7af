"""Checks before counting (docs/quickcount.md §5): quarantine, blanks are missing, never 0.

On the demo's reference simulation (seed 2024, 300 observed stations) a ×10 typo in the leader's
votes at station C002/34 moved the leader's share from 80.25 % to 80.94 % before these checks
(measured on main at 4f246c7); the copy is now quarantined.
"""

from __future__ import annotations

import json
import warnings

import polars as pl
import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.demo import simulate_reference_case
from pollwatch.demo_sources import observer_sample
from pollwatch.quickcount.checks import INCOMPLETE
from pollwatch.quickcount.compare import compare
from pollwatch.quickcount.copies import ProtocolCopies, read_protocol_copies
from pollwatch.quickcount.estimate import estimate
from pollwatch.simulate.layouts import write_layout

TYPO = "C002/34"


@pytest.fixture(scope="module")
def demo():
    sim = simulate_reference_case(2024)
    _, copies, _, _ = observer_sample(sim, 300, 2024)
    e = sim.election
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clean = estimate(copies, e)
    leader = max(clean.candidates, key=lambda c: clean[c].estimate)
    lead_id = next(c.id for c in e.candidates if c.name == leader)
    return e, copies, clean, leader, lead_id


def _edit(copies: ProtocolCopies, station: str, col: str, value) -> ProtocolCopies:
    t = copies.table
    v = t[col].to_list()
    i = t["station_id"].to_list().index(station)
    v[i] = value(v[i]) if callable(value) else value
    return ProtocolCopies.from_frame(t.with_columns(pl.Series(col, v, dtype=pl.Int64)))


def _without(copies: ProtocolCopies, station: str) -> ProtocolCopies:
    return ProtocolCopies.from_frame(copies.table.filter(pl.col("station_id") != station))


def test_clean_copies_all_counted(demo):
    _, _, clean, leader, _ = demo
    assert clean.n_reported == 300 and clean.quarantined == ()
    assert clean[leader].estimate == pytest.approx(0.80250, abs=5e-5)
    assert {"candidates_sum_valid", "turnout_le_100", "votes_le_registered"} <= set(clean.checks)


def test_times_ten_typo_is_quarantined(demo):
    e, copies, clean, leader, lead_id = demo
    typo = _edit(copies, TYPO, lead_id, lambda v: v * 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = estimate(typo, e)
        ref = estimate(_without(copies, TYPO), e)
    assert r.n_reported == 299
    (q,) = r.quarantined
    assert q.station_id == TYPO and q.rules[0] == "candidates_sum_valid"
    assert "expected 247, found 1,669" in q.reasons[0]
    # the leader is the estimate of the 299 other copies: it no longer moves to 80.94 %
    assert r[leader].estimate == ref[leader].estimate
    assert abs(r[leader].estimate - clean[leader].estimate) < 0.001 < clean[leader].moe
    text = r.summary().as_text()
    assert "1 copy quarantined" in text and f"Quarantined {TYPO}: sum of candidate votes" in text
    doc = r.to_dict()
    assert doc["quarantined"][0]["station_id"] == TYPO and doc["n_reported"] == 299


def test_blank_cell_is_missing_not_zero(demo):
    e, copies, _, leader, lead_id = demo
    blank = _edit(copies, TYPO, lead_id, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = estimate(blank, e)
        ref = estimate(_without(copies, TYPO), e)
    assert r.n_reported == 299 and r[leader].estimate == ref[leader].estimate
    (q,) = r.quarantined
    assert q.rules == (INCOMPLETE,)
    assert q.reasons == (f"{lead_id} is blank (missing, not 0): the copy cannot be counted",)


def test_blank_csv_cell_and_blank_valid(tmp_path, demo):
    e, copies, _, leader, lead_id = demo
    path = tmp_path / "copies.csv"
    copies.table.write_csv(path)
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    row = next(i for i, line in enumerate(lines) if line.startswith(TYPO + ","))
    cells = lines[row].split(",")
    cells[header.index(lead_id)] = ""  # the observer left the leader's line empty
    lines[row] = ",".join(cells)
    row2 = row + 1
    cells = lines[row2].split(",")
    other = cells[0]
    cells[header.index("valid")] = ""
    lines[row2] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    c = read_protocol_copies(path)
    assert c.table.filter(pl.col("station_id") == TYPO)[lead_id].item() is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = estimate(c, e)
    assert [q.station_id for q in r.quarantined] == [TYPO, other]  # in file order
    assert r.quarantined[1].reasons == (
        "valid is blank (missing, not 0): the copy cannot be counted",
    )
    assert r.n_reported == 298


def test_compare_leaves_a_typo_out_of_the_protocol_match(demo):
    e, copies, _, _, lead_id = demo
    typo = _edit(copies, TYPO, lead_id, lambda v: v * 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = compare(typo, e)
    assert r.estimate.n_reported == 299
    assert TYPO not in r.protocols.altered_stations  # an observer's typo is not tampering
    assert r.protocols.stations_compared == 299


def test_cli_text_and_json(tmp_path, demo):
    e, copies, _, _, lead_id = demo
    typo = _edit(copies, TYPO, lead_id, lambda v: v * 10)
    typo.table.write_csv(tmp_path / "copies.csv")
    frame = write_layout(e, "azerbaijan", tmp_path)["results.csv"]  # the CEC's layout
    runner = CliRunner()
    args = ["quickcount", "estimate", str(tmp_path / "copies.csv"), "--frame"]
    args += [str(frame), "--bootstrap", "0"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "copies quarantined (not counted)" in r.output and TYPO in r.output
    r = runner.invoke(app, [*args, "--json"])
    doc = json.loads(r.output)
    assert doc["n_reported"] == 299 and [q["station_id"] for q in doc["quarantined"]] == [TYPO]
