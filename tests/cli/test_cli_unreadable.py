"""CLI: files that are not a results table end with one plain line and exit 1, quickly."""

from __future__ import annotations

import time

import pytest
from typer.testing import CliRunner

from pollwatch.cli import app

runner = CliRunner()


@pytest.mark.parametrize("command", [["ingest"], ["validate"], ["analyze", "--out", "OUT"]])
def test_header_only_file_exit_1_with_a_plain_message(tmp_path, command):
    p = tmp_path / "results.csv"
    p.write_text("region,tik,uik,Число избирателей, включенных в список,Иванов\n", encoding="utf-8")
    args = [a.replace("OUT", str(tmp_path / "out")) for a in command]
    t0 = time.perf_counter()
    r = runner.invoke(app, [args[0], str(p), *args[1:]])
    assert time.perf_counter() - t0 < 5
    assert r.exit_code == 1, r.output
    assert r.stderr.splitlines() == [
        f"1 problem in {p}:",
        f"- {p}: the file has a header but no station rows: expected a header line followed by one row per "
        "polling station, got 'region,tik,uik,Число избирателей, включенных в список,Иванов'.",
        "  Hint: the export may have been cut off or filtered to nothing; export the full table again",
    ]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_png_exit_1(tmp_path):
    p = tmp_path / "results.csv"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    r = runner.invoke(app, ["ingest", str(p)])
    assert r.exit_code == 1
    assert "the file is a PNG image, not a results table" in r.stderr
