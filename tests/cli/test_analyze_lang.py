"""`pollwatch analyze --lang`: the report in Azerbaijani or Russian, the exports unchanged."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pollwatch.cli import app
from pollwatch.i18n import tooling
from pollwatch.simulate import simulate_election

runner = CliRunner()
FAST = "fingerprint,integer_percentages,shpilkin,digits"


def test_analyze_lang_ru(tmp_path):
    paths = simulate_election(1500, seed=4, layout="russia").write(tmp_path / "sim")
    out = tmp_path / "out"
    args = ["analyze", str(paths["results.csv"]), "--out", str(out), "--quiet", "--methods", FAST]
    r = runner.invoke(app, [*args, "--lang", "ru"])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="ru">' in html and "Как мы получили эти цифры" in html
    assert "How we got these numbers" not in html
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert "headline" in doc and "election" in doc  # the exports keep their English keys


def test_analyze_unknown_lang_exit_2(tmp_path):
    paths = simulate_election(300, seed=4).write(tmp_path / "sim")
    r = runner.invoke(app, ["analyze", str(paths["results.csv"]), "--lang", "de"])
    assert r.exit_code == 2 and "--lang" in r.stderr


@pytest.mark.realdata
@pytest.mark.slow
def test_real_2012_file_in_russian_has_no_english_left(ru2012_path, tmp_path):
    """The real 2012 file (every method, its URL column, its ignored columns, the data-quality
    findings) read in Russian: no English phrase a reader meets, the file path aside."""
    out = tmp_path / "out"
    args = ["analyze", str(ru2012_path), "--out", str(out), "--quiet", "--country", "Russia"]
    r = runner.invoke(app, [*args, "--lang", "ru"])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert tooling.english_runs(html, allow=[str(ru2012_path)]) == []
    assert tooling.leftover_english(html, "ru") == []
