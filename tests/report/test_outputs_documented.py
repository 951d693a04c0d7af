"""results.json against its JSON Schema, and the station tables against docs/outputs.md.

Real outputs of simulated elections (one with stuffing, one too small for some methods) are
validated, so a key added to results.json without the schema, or a column added to
stations.csv without its line in docs/outputs.md, fails here.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonschema
import polars as pl
import pytest

from pollwatch import analyze, simulate_election
from pollwatch.demo import AZ_FRAUD
from pollwatch.forensics.run import METHODS
from pollwatch.report import write_exports
from pollwatch.report.schema import results_schema
from pollwatch.results import RESULTS_SCHEMA_VERSION, jsonable

# ~1-3 min: two full analyses (every method, as results.json needs them all)
pytestmark = pytest.mark.slow

DOCS = Path(__file__).resolve().parents[2] / "docs" / "outputs.md"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Written exports of two analyses: 1,500 stations with the demo's fraud; 40 (methods
    skip or fail)."""
    out = {}
    for name, election in {
        "stuffed": simulate_election(1500, seed=4, fraud=AZ_FRAUD).election,
        "tiny": simulate_election(40, seed=5).election,
    }.items():
        d = tmp_path_factory.mktemp(name)
        analysis = analyze(election, seed=0)
        paths = write_exports(analysis, d)
        doc = json.loads(paths["results.json"].read_text(encoding="utf-8"))
        out[name] = (doc, analysis, paths)
    return out


@pytest.fixture(scope="module")
def validator():
    schema = results_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _errors(validator, doc) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in validator.iter_errors(doc)
    ]


@pytest.mark.parametrize("name", ["stuffed", "tiny"])
def test_results_json_follows_the_schema(outputs, validator, name):
    doc = outputs[name][0]
    assert doc["schema_version"] == RESULTS_SCHEMA_VERSION
    assert _errors(validator, doc) == []


def test_the_outputs_cover_skipped_failed_and_estimated_methods(outputs):
    # the two elections exercise the schema's branches: an estimate, a null estimate, an error
    stuffed, tiny = outputs["stuffed"][0], outputs["tiny"][0]
    assert stuffed["headline"]["falsified_votes"]["estimate"] is not None
    assert tiny["headline"]["falsified_votes"]["estimate"] is None
    assert tiny["errors"] and not stuffed["errors"]


def test_schema_version_is_the_schemas(validator):
    assert results_schema()["properties"]["schema_version"]["const"] == RESULTS_SCHEMA_VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+", RESULTS_SCHEMA_VERSION)


def test_every_method_has_its_schema():
    listed = set(results_schema()["properties"]["methods"]["properties"])
    assert listed == {spec.json_key for spec in METHODS.values()}


@pytest.mark.parametrize(
    "path",
    [
        (),  # a new top-level block
        ("election",),
        ("headline",),
        ("headline", "falsified_votes"),
        ("strength",),
        ("methods",),  # a new method
        ("methods", "shpilkin"),  # a new key in a method's result
        ("methods", "mixture"),
    ],
)
def test_a_key_added_without_the_schema_fails(outputs, validator, path):
    doc = copy.deepcopy(outputs["stuffed"][0])
    target = doc
    for key in path:
        target = target[key]
    target["undocumented_key"] = 1
    errors = _errors(validator, doc)
    assert errors and "undocumented_key" in " ".join(errors), errors


def test_a_missing_schema_version_fails(outputs, validator):
    doc = copy.deepcopy(outputs["stuffed"][0])
    del doc["schema_version"]
    assert any("schema_version" in e for e in _errors(validator, doc))


def _documented_columns() -> set[str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## stations.csv and stations.parquet", 1)[1]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.M))


@pytest.mark.parametrize("name", ["stuffed", "tiny"])
def test_every_station_column_is_documented(outputs, name):
    _, analysis, paths = outputs[name]
    documented = _documented_columns()
    hierarchy = set(analysis.election.meta.hierarchy)
    for fmt in ("stations.csv", "stations.parquet"):
        cols = (
            pl.read_csv(paths[fmt], n_rows=1).columns
            if fmt.endswith(".csv")
            else pl.read_parquet(paths[fmt]).columns
        )
        missing = [c for c in cols if c not in documented and c not in hierarchy]
        assert not missing, f"{fmt} columns not in docs/outputs.md: {missing}"
        assert "<hierarchy level>" in documented and hierarchy <= set(cols)


def test_the_column_check_can_fail(outputs):
    # the same check on a table with one more column: it is reported
    _, analysis, _ = outputs["stuffed"]
    table = analysis.stations_table().with_columns(pl.lit(1).alias("new_signal"))
    documented = _documented_columns() | set(analysis.election.meta.hierarchy)
    assert [c for c in table.columns if c not in documented] == ["new_signal"]


def test_documented_columns_exist_somewhere(outputs):
    # no stale lines: every documented column (but the placeholder) is in some output
    seen = set()
    for _, analysis, _ in outputs.values():
        seen |= set(analysis.stations_table().columns)
    stale = _documented_columns() - seen - {"<hierarchy level>"}
    assert not stale, f"docs/outputs.md lists columns no output has: {stale}"


def test_a_bootstrapped_regional_mixture_follows_the_schema(validator):
    # regional_boot > 0 fills the intervals the default run leaves null
    election = simulate_election(1500, seed=4, fraud=AZ_FRAUD).election
    analysis = analyze(election, seed=0, methods=["mixture_by_region"], regional_boot=5)
    doc = json.loads(json.dumps(jsonable(analysis.doc)))
    assert doc["methods"]["mixture_by_region"]["interval"] is not None
    assert _errors(validator, doc) == []
