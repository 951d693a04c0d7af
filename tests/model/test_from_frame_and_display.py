"""Election.from_frame (pandas and polars, through the ingest reader) and the notebook
displays of Election and Analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from pollwatch import analyze
from pollwatch.errors import ConfigError, IngestError
from pollwatch.ingest import read_frame
from pollwatch.ingest.mapping import parse_mapping
from pollwatch.model import Election, ElectionMeta

MAPPING = {
    "station": {"id": ["pec"], "hierarchy": ["district"]},
    "fields": {"registered": "reg", "valid": "valid", "invalid": "invalid"},
    "candidates": {"columns": ["A", "<b>B</b>"]},
}
ROWS = {
    "district": ["D1", "D1", "D2"],
    "pec": ["1", "2", "3"],
    "reg": [100, 120, 200],
    "valid": [60, 70, 150],
    "invalid": [2, 1, 3],
    "A": [40, 30, 100],
    "<b>B</b>": [20, 40, 50],
}


@pytest.mark.parametrize("kind", ["polars", "pandas"])
def test_from_frame_reads_like_a_file(kind):
    df = pl.DataFrame(ROWS) if kind == "polars" else pd.DataFrame(ROWS)
    e = Election.from_frame(df, MAPPING, name="Test")
    ref = read_frame(pl.DataFrame(ROWS), mapping=parse_mapping(MAPPING, "m"), name="Test")
    assert e.n_stations == 3 and e.meta.name == "Test"
    assert e.totals() == ref.totals()
    assert e.totals()["votes"] == {"A": 170, "<b>B</b>": 110}
    assert e.ingest_report is not None and e.ingest_report.source == "DataFrame"


def test_from_frame_takes_a_mapping_file(tmp_path):
    toml = tmp_path / "m.toml"
    toml.write_text(
        '[station]\nid = ["pec"]\nhierarchy = ["district"]\n'
        '[fields]\nregistered = "reg"\nvalid = "valid"\ninvalid = "invalid"\n'
        '[candidates]\ncolumns = ["A", "<b>B</b>"]\n',
        encoding="utf-8",
    )
    assert Election.from_frame(pl.DataFrame(ROWS), toml).n_stations == 3


@pytest.mark.parametrize("kind", ["polars", "pandas"])
def test_from_frame_errors_name_the_column_and_the_row(kind):
    rows = dict(ROWS, valid=["60", "7x0", "150"])
    df = pl.DataFrame(rows) if kind == "polars" else pd.DataFrame(rows)
    with pytest.raises(IngestError) as err:
        Election.from_frame(df, MAPPING)
    msg = str(err.value)
    # row 1 of the frame is line 3 (the header is line 1), and the message says so
    assert 'line 3, column "valid"' in msg and "'7x0'" in msg
    assert "row n - 2 of the frame" in msg
    assert err.value.issues[0].column == "valid" and err.value.issues[0].line == 3


def test_from_frame_refuses_a_bad_mapping():
    with pytest.raises(ConfigError, match="unknown model fields"):
        Election.from_frame(pl.DataFrame(ROWS), {**MAPPING, "fields": {"regstered": "reg"}})
    with pytest.raises(TypeError, match="mapping must be"):
        Election.from_frame(pl.DataFrame(ROWS), 42)
    with pytest.raises(TypeError, match="polars .or pandas. DataFrame"):
        Election.from_frame({"a": [1]}, MAPPING)


def test_election_html_is_a_summary_and_escaped():
    e = Election.from_frame(pl.DataFrame(ROWS), MAPPING, name="<script>alert(1)</script>")
    out = e._repr_html_()
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "&lt;b&gt;B&lt;/b&gt;" in out and "<b>B</b>" not in out
    assert "3 (3 analysable)" in out and "district" in out
    assert "votes: A" in out and "170" in out


def _small_election() -> Election:
    rng = np.random.default_rng(0)
    n = 300
    reg = rng.integers(400, 1500, n)
    cast = rng.binomial(reg, 0.6)
    invalid = rng.binomial(cast, 0.02)
    valid = cast - invalid
    a = rng.binomial(valid, 0.5)
    return Election.from_arrays(
        registered=reg,
        valid=valid,
        invalid=invalid,
        votes={"<i>Leader</i>": a, "Other": valid - a},
        hierarchy={"region": rng.choice(["N", "S"], n)},
        meta=ElectionMeta(name="Small & <odd>"),
    )


def test_analysis_html_is_a_summary_and_escaped():
    a = analyze(_small_election(), seed=0, methods=["fingerprint", "integer_percentages"])
    out = a._repr_html_()
    assert "<i>" not in out and "&lt;odd&gt;" in out and "Small &amp;" in out
    assert a.doc["headline"]["statement"][:40].replace("'", "&#x27;") in out
    assert "method correlation" in out and "method integer_percentages" in out
    assert "method klimek" not in out  # not asked for
    assert "Top-ranked stations (of 300)" in out and out.count("<tr>") >= 5
