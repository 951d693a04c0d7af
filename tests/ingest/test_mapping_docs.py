"""docs/mapping.md: its worked example reads as it says, and it documents every field and reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pollwatch.ingest import load_mapping, read_election
from pollwatch.model.fields import EXCLUSION_REASONS, FIELDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _block(doc: str, marker: str, lang: str) -> str:
    m = re.search(rf"<!-- {marker} -->\n```{lang}\n(.*?)```", doc, re.S)
    assert m, f"docs/mapping.md has no ```{lang} block after <!-- {marker} -->"
    return m.group(1)


def test_worked_example_reads_as_documented(tmp_path, doc):
    csv = tmp_path / "results.csv"
    csv.write_text(_block(doc, "worked-example-csv", "csv"), encoding="utf-8")
    m = tmp_path / "mapping.toml"
    m.write_text(_block(doc, "worked-example-toml", "toml"), encoding="utf-8")
    e = read_election(csv, mapping=load_mapping(m))
    assert e.n_stations == 4
    assert e.ingest_report.exclusions == {"evoting": 1}
    assert set(e.ingest_report.ignored_columns) == {"Address", "Link"}
    ok = e.analysable()
    assert int(e.field("registered")[ok].sum()) == 4284
    assert int((e.field("valid") + e.field("invalid"))[ok].sum()) == 2807
    green = next(c for c in e.candidates if c.name == "Green Party")
    assert green.party == "Greens" and int(e.field(green.id)[ok].sum()) == 1300
    assert "Internet voting/-/1" in e.station_ids.tolist()


def test_every_model_field_and_exclusion_reason_is_documented(doc):
    for f in FIELDS:
        assert f"| `{f.name}` | {'yes' if f.required else ''} | {f.description} |" in doc, f.name
    for reason in EXCLUSION_REASONS:
        assert f"| `{reason}` |" in doc, reason


@pytest.mark.parametrize(
    "key",
    [
        "contains",
        "and_contains",
        "or_contains",
        "not_contains",
        "optional",
        "columns",
        "rest",
        "ignore",
        "encoding",
        "delimiter",
        "thousands",
        "sheet",
        "station_issued_includes_mobile",
        "evoting_labels",
        "evoting_min_registered",
        "detect",
        "hierarchy",
        "profile",
        "max_count",
        "max_registered",
        "max_ratio",
        "sum_tolerance",
        "enforce",
        '"skip"',
    ],
)
def test_every_key_is_documented(doc, key):
    assert f"| `{key}` |" in doc


def test_long_layout_and_derive_as_documented(tmp_path, doc):
    """The [long] and [derive] snippets of the reference read a file as they say."""
    long_toml = re.search(
        r"```toml\n(\[station\]\nid = \[\"district\", \"precinct\"\].*?)```", doc, re.S
    ).group(1)
    m = tmp_path / "long.toml"
    m.write_text(long_toml, encoding="utf-8")
    p = tmp_path / "long.csv"
    p.write_text(
        "district,precinct,registered,valid,invalid,candidate,party,votes\n"
        "D1,1,100,60,2,Alice,Reds,40\nD1,1,100,60,2,Bob,Blues,20\n"
        "D1,2,90,50,1,Alice,Reds,30\nD1,2,90,50,1,Bob,Blues,20\n",
        encoding="utf-8",
    )
    e = read_election(p, mapping=m)
    assert [(c.name, c.party) for c in e.candidates] == [("Alice", "Reds"), ("Bob", "Blues")]
    assert e.n_stations == 2 and e.totals()["votes"] == {"Alice": 70, "Bob": 40}

    assert 'valid = "sum(candidates)"' in doc
    m = tmp_path / "ref.toml"
    m.write_text(
        '[station]\nid = "uik"\n[fields]\nregistered = "registered"\ninvalid = "invalid"\n'
        '[derive]\nvalid = "sum(candidates)"\n[candidates]\ncolumns = ["Да", "Нет"]\n',
        encoding="utf-8",
    )
    p = tmp_path / "ref.csv"
    p.write_text("uik,registered,invalid,Да,Нет\n1,100,2,50,20\n2,80,1,30,30\n", encoding="utf-8")
    e = read_election(p, mapping=m)
    assert e.field("valid").tolist() == [70, 60] and e.ingest_report.derived == {
        "valid": "sum(candidates)"
    }
