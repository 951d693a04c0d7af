"""CLI: `pollwatch mapping draft`, and the pointers to the mapping reference."""

from __future__ import annotations

import tomllib

from typer.testing import CliRunner

from pollwatch.cli import app

runner = CliRunner()
CSV = (
    "station_id,region,registered,valid,invalid,Alice Smith,Bob Jones,Column 9\nS1,North,100,60,2,40,20,0\n"
    "S2,North,120,80,1,50,30,0\n"
)


def _csv(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text(CSV, encoding="utf-8")
    return p


def test_draft_writes_a_mapping_that_ingest_reads(tmp_path):
    p, out = _csv(tmp_path), tmp_path / "m.toml"
    r = runner.invoke(app, ["mapping", "draft", str(p), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        f"Wrote {out}.",
        "r.csv: 7 of 8 columns recognised.",
        'NOT recognised (1): "Column 9" — see the comments in the mapping.',
        f"Next: pollwatch ingest {p} --mapping {out}",
    ]
    doc = tomllib.loads(out.read_text(encoding="utf-8"))
    assert doc["station"] == {"id": ["station_id"], "hierarchy": ["region"]}
    assert doc["fields"] == {"registered": "registered", "valid": "valid", "invalid": "invalid"}
    r = runner.invoke(app, ["ingest", str(p), "--mapping", str(out), "--json"])
    assert r.exit_code == 0, r.output
    assert '"leader": "Alice Smith"' in r.stdout and '"stations": 2' in r.stdout


def test_draft_prints_to_stdout_without_out(tmp_path):
    r = runner.invoke(app, ["mapping", "draft", str(_csv(tmp_path))])
    assert r.exit_code == 0
    assert tomllib.loads(r.stdout)["candidates"]["rest"] is True
    assert '# NOT recognised: column "Column 9" (numeric) — taken as a candidate' in r.stdout
    assert "r.csv: 7 of 8 columns recognised." in r.stderr


def test_draft_refuses_to_overwrite_without_force(tmp_path):
    p, out = _csv(tmp_path), tmp_path / "m.toml"
    out.write_text("# mine\n", encoding="utf-8")
    r = runner.invoke(app, ["mapping", "draft", str(p), "--out", str(out)])
    assert r.exit_code == 2 and "already exists" in r.stderr and "--force" in r.stderr
    assert out.read_text(encoding="utf-8") == "# mine\n"
    assert (
        runner.invoke(app, ["mapping", "draft", str(p), "--out", str(out), "--force"]).exit_code
        == 0
    )
    assert "[fields]" in out.read_text(encoding="utf-8")


def test_draft_of_a_header_only_file_exit_1(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("station_id,registered,valid,invalid,A\n", encoding="utf-8")
    r = runner.invoke(app, ["mapping", "draft", str(p)])
    assert r.exit_code == 1
    assert "the file has a header but no station rows" in r.stderr


def test_help_texts_point_to_the_mapping_reference():
    for cmd in (["ingest", "--help"], ["analyze", "--help"], ["mapping", "draft", "--help"]):
        r = runner.invoke(app, cmd, terminal_width=200)
        assert r.exit_code == 0
        assert "docs/mapping.md" in r.stdout, cmd


def test_no_preset_error_points_to_the_reference_and_the_draft(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("x,y\n1,2\n", encoding="utf-8")
    r = runner.invoke(app, ["ingest", str(p)])
    assert r.exit_code == 1
    assert "matches no preset" in r.stderr
    assert "pollwatch mapping draft" in r.stderr and "docs/mapping.md" in r.stderr
