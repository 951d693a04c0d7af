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


@pytest.mark.parametrize("key", ["contains", "and_contains", "or_contains", "not_contains", "optional", "columns",
                                 "rest", "ignore", "encoding", "delimiter", "thousands", "sheet",
                                 "station_issued_includes_mobile", "evoting_labels", "evoting_min_registered",
                                 "detect", "hierarchy", "profile"])
def test_every_key_is_documented(doc, key):
    assert f"| `{key}` |" in doc
