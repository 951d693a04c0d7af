"""`pollwatch analyze --lang`: the report in Azerbaijani or Russian, the exports unchanged."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pollwatch.cli import app
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
