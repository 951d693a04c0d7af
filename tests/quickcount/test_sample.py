"""The registered-sample file (``pollwatch.quickcount-sample/1``) and reserve replacements."""

from __future__ import annotations

import hashlib
import json

import pytest

from pollwatch.errors import IngestError
from pollwatch.quickcount.sample import (
    COLUMNS,
    FORMAT,
    REPLACEMENT_RULE,
    ReplacementError,
    SampledStation,
    read_replacements,
    read_sample,
    sidecar_path,
    write_replacements,
    write_sample,
)

DESIGN = {"target_moe": 0.02, "confidence": 0.95, "deff": 3.1, "n": 5}
AT = "2026-12-06T08:15:00+04:00"


def _stations() -> list[SampledStation]:
    """Stratum A: N=10, 3 primaries, 2 reserves; stratum B: N=6, 2 primaries, 1 reserve."""
    out = [SampledStation(f"A{i}", "A", "primary", None, 10, 3, 10 / 3) for i in (1, 2, 3)]
    out += [SampledStation(f"A{i}", "A", "reserve", r, 10, 3, 10 / 3) for r, i in ((1, 4), (2, 5))]
    out += [SampledStation(f"B{i}", "B", "primary", None, 6, 2, 3.0) for i in (1, 2)]
    out += [SampledStation("B3", "B", "reserve", 1, 6, 2, 3.0)]
    return out


@pytest.fixture
def sample_path(tmp_path):
    path = tmp_path / "sample.csv"
    write_sample(path, _stations(), seed=2024, strata_by=["region"], design=DESIGN, created_at=AT)
    return path


def _rewrite(path, old: str, new: str, fix_sha: bool = True) -> None:
    """Edit the CSV; with ``fix_sha`` re-register it so that only the content check can fail."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    if fix_sha:
        side = sidecar_path(path)
        meta = json.loads(side.read_text())
        meta["csv_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        side.write_text(json.dumps(meta))


class TestFormat:
    def test_round_trip(self, sample_path):
        s = read_sample(sample_path)
        assert s.n == 5 and len(s.reserves) == 3
        assert s.strata == {"A": (10, 3), "B": (6, 2)}
        assert s.seed == 2024 and s.strata_by == ("region",)
        assert s.station("A2").weight == pytest.approx(10 / 3, rel=1e-15)
        assert s.active_ids() == ("A1", "A2", "A3", "B1", "B2")

    def test_file_layout(self, sample_path):
        lines = sample_path.read_text(encoding="utf-8").splitlines()
        assert lines[0] == ",".join(COLUMNS)
        assert lines[1].startswith("A1,A,primary,,10,3,3.3333333333333")
        assert lines[4] == "A4,A,reserve,1,10,3,3.3333333333333335"
        meta = json.loads(sidecar_path(sample_path).read_text())
        assert meta["format"] == FORMAT
        assert meta["replacement_rule"] == REPLACEMENT_RULE
        assert meta["design"] == DESIGN
        assert meta["created_at"] == AT
        assert meta["lookup"] is None

    def test_sha_mismatch(self, sample_path):
        _rewrite(sample_path, "B1,B,primary", "B9,B,primary", fix_sha=False)
        with pytest.raises(IngestError, match="not the registered one") as exc:
            read_sample(sample_path)
        issue = exc.value.issues[0]
        assert issue.column == "csv_sha256" and issue.source.endswith("sample.csv.json")

    def test_duplicate_station(self, sample_path):
        _rewrite(sample_path, "B2,B,primary", "B1,B,primary")
        with pytest.raises(IngestError, match="station listed twice") as exc:
            read_sample(sample_path)
        i = exc.value.issues[0]
        assert (i.line, i.column, i.value) == (8, "station_id", "B1")
        assert "first on line 7" in i.expected

    def test_weight_inconsistent(self, sample_path):
        _rewrite(sample_path, "B2,B,primary,,6,2,3.0", "B2,B,primary,,6,2,3.5")
        with pytest.raises(IngestError, match="weight inconsistent") as exc:
            read_sample(sample_path)
        i = exc.value.issues[0]
        assert (i.line, i.column, i.value, i.expected) == (8, "weight", "3.5", "6/2 = 3")

    def test_rounded_weight_accepted(self, sample_path):
        _rewrite(
            sample_path, "A1,A,primary,,10,3,3.3333333333333335", "A1,A,primary,,10,3,3.333333"
        )
        assert read_sample(sample_path).n == 5

    def test_n_h_not_primaries(self, sample_path):
        _rewrite(sample_path, "B2,B,primary,", "B2,B,reserve,2")
        with pytest.raises(IngestError) as exc:
            read_sample(sample_path)
        i = exc.value.issues[0]
        assert i.message == "stratum 'B': stratum_sampled differs from its primary stations"
        assert (i.line, i.value, i.expected) == (7, "2", "1 (primary rows of the stratum)")

    def test_bad_role_and_ranks(self, sample_path):
        _rewrite(sample_path, "A5,A,reserve,2", "A5,A,reserve,3")
        _rewrite(sample_path, "A3,A,primary", "A3,A,main")
        with pytest.raises(IngestError) as exc:
            read_sample(sample_path)
        got = {(i.message, i.column, i.value) for i in exc.value.issues}
        assert ("unknown role", "role", "main") in got
        assert ("stratum 'A': reserve ranks are not 1..2", "reserve_rank", "1,3") in got

    def test_sidecar_missing_and_wrong_format(self, sample_path):
        side = sidecar_path(sample_path)
        meta = json.loads(side.read_text())
        side.unlink()
        with pytest.raises(IngestError, match="file not found"):
            read_sample(sample_path)
        meta["format"] = "something/2"
        side.write_text(json.dumps(meta))
        with pytest.raises(IngestError, match="unknown format"):
            read_sample(sample_path)

    def test_write_refuses_bad_rows(self, tmp_path):
        rows = _stations()
        rows[0] = SampledStation("A1", "A", "primary", None, 10, 3, 3.0)
        with pytest.raises(IngestError, match="weight inconsistent"):
            write_sample(tmp_path / "s.csv", rows, seed=1, strata_by=[], design=DESIGN)
        assert not (tmp_path / "s.csv").exists()


class TestReplacements:
    def test_rule_and_order(self, sample_path):
        s = read_sample(sample_path)
        r1 = s.replace("A2", "road flooded", AT)
        assert (r1.reserve_id, r1.stratum) == ("A4", "A")
        # the reserve brought in can itself be replaced, by the next rank
        r2 = s.replace("A4", "observer refused entry", "2026-12-06T09:00:00+04:00")
        assert r2.reserve_id == "A5"
        assert s.active_ids() == ("A1", "A3", "A5", "B1", "B2")
        with pytest.raises(ReplacementError, match="no unused reserve left in stratum 'A'"):
            s.replace("A1", "closed", "2026-12-06T10:00:00+04:00")
        with pytest.raises(ReplacementError, match="station already replaced"):
            s.replace("A2", "closed", "2026-12-06T10:00:00+04:00")
        with pytest.raises(ReplacementError, match="not in the sample"):
            s.replace("Z1", "closed", "2026-12-06T10:00:00+04:00")
        with pytest.raises(ReplacementError, match="before the previous one"):
            s.replace("B1", "closed", "2026-12-06T07:00:00+04:00")
        with pytest.raises(ReplacementError, match="no reason"):
            s.replace("B1", " ", "2026-12-06T10:00:00+04:00")
        with pytest.raises(ReplacementError, match="not a time"):
            s.replace("B1", "closed", "10:00")
        assert len(s.replacements) == 2

    def test_file_round_trip(self, sample_path, tmp_path):
        s = read_sample(sample_path)
        s.replace("B2", "polling station moved", AT)
        s.replace("A1", "no phone signal", "2026-12-06T08:20:00+04:00")
        out = write_replacements(tmp_path / "rep.csv", s.replacements)
        assert out.read_text().splitlines()[1] == f"B2,B3,polling station moved,{AT}"
        fresh = read_sample(sample_path)
        got = read_replacements(out, fresh)
        assert [(r.primary_id, r.reserve_id) for r in got] == [("B2", "B3"), ("A1", "A4")]
        assert fresh.active_ids() == s.active_ids()

    def test_file_breaking_rule_refused(self, sample_path, tmp_path):
        rep = tmp_path / "rep.csv"
        rep.write_text(
            "primary_id,reserve_id,reason,at\n"
            f"A1,A4,closed,{AT}\n"
            "A2,A4,closed,2026-12-06T09:00:00+04:00\n"  # A4 is used: the rule gives A5
            "B1,B3,closed,2026-12-06T09:30:00+04:00\n"
        )
        s = read_sample(sample_path)
        with pytest.raises(ReplacementError) as exc:
            read_replacements(rep, s)
        (i,) = exc.value.issues
        assert (i.line, i.column, i.value) == (3, "reserve_id", "A4")
        assert i.expected.startswith("A5 (unused reserve of stratum 'A'")
        assert "breaks the rule" in i.message
        assert s.replacements == ()  # nothing applied

    def test_refusal_names_the_file_line(self, sample_path, tmp_path):
        rep = tmp_path / "rep.csv"
        rep.write_text(f"primary_id,reserve_id,reason,at\n\nB1,B9,closed,{AT}\n")
        with pytest.raises(ReplacementError, match="1 replacement\\(s\\) refused") as exc:
            read_replacements(rep, read_sample(sample_path))
        (i,) = exc.value.issues
        assert (i.line, i.value) == (3, "B9") and i.expected.startswith("B3 ")

    def test_header_checked(self, sample_path, tmp_path):
        rep = tmp_path / "rep.csv"
        rep.write_text("station,reserve\nA1,A4\n")
        with pytest.raises(ReplacementError, match="not a replacements file"):
            read_replacements(rep, read_sample(sample_path))
