"""``pollwatch claims check``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pollwatch.cli import app

runner = CliRunner()


def test_example_dataset():
    r = runner.invoke(app, ["claims", "check", "azerbaijan_2024"])
    assert r.exit_code == 0, r.output
    assert "76.43 % of 6,478,623 = 4,951,612 ballots < 4,957,967 valid votes" in r.output


def test_json_and_file(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text(
        "- {source: A, quantity: turnout, value: '50.1'}\n- {source: B, quantity: turnout, value: '52'}\n"
    )
    r = runner.invoke(app, ["claims", "check", str(p), "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert [f["kind"] for f in doc["findings"]] == ["disagreement"]


def test_missing_file():
    r = runner.invoke(app, ["claims", "check", "no_such_file.yaml"])
    assert r.exit_code == 1 and "no such file" in r.output
