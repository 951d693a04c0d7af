"""A corpus of generated layouts: each variation of a real results file reads right or is refused.

Every file is generated from one simulated election whose totals are known
(``pollwatch.simulate.variants``); nothing here is a real file.
"""

from __future__ import annotations

import io
import zipfile

import polars as pl
import pytest

from pollwatch.errors import ConfigError, IngestError
from pollwatch.ingest import read_election, read_frame
from pollwatch.ingest.mapping import parse_mapping
from pollwatch.simulate import simulate_election
from pollwatch.simulate import variants as v
from pollwatch.simulate.layouts import RUSSIA_COLUMNS

N = 240


@pytest.fixture(scope="module")
def sim():
    return simulate_election(N, seed=7, n_regions=4, layout="russia")


@pytest.fixture(scope="module")
def truth(sim):
    return sim.election.totals()


@pytest.fixture(scope="module")
def base(sim):
    return v.russia_frame(sim.election)


def _same_reading(e, truth, stations=N):
    t = e.totals()
    assert e.ingest_report.mapping == "russia_cec"
    assert t["leader"] == truth["leader"] and t["leader_votes"] == truth["leader_votes"]
    assert t["votes"] == truth["votes"]
    analysable = e.subset(e.analysable())
    assert analysable.n_stations == stations
    at = analysable.totals()
    assert (at["registered"], at["valid"], at["invalid"]) == (
        truth["registered"],
        truth["valid"],
        truth["invalid"],
    )
    return t


def _zip(tmp_path, df: pl.DataFrame, name="results.csv"):
    buf = io.BytesIO()
    df.write_csv(buf)
    p = tmp_path / "r.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr(name, buf.getvalue())
    return p


def test_base_layout_reads_as_the_simulation(base, truth):
    e = read_frame(base, source="base")
    _same_reading(e, truth)
    rep = e.ingest_report
    assert rep.rest_refused == {"url": "ignored by the mapping"}
    assert rep.rest_taken == tuple(truth["votes"])
    assert set(rep.gates) == {
        "candidates_sum_valid",
        "candidate_le_valid",
        "issued_vs_cast",
        "cast_le_registered",
    }
    assert all(g.startswith("ok") for g in rep.gates.values())


def test_later_wording_and_two_unaccounted_columns(tmp_path, base, truth):
    df = v.later_wording(base)
    e = read_election(_zip(tmp_path, df))
    _same_reading(e, truth)
    cols = e.ingest_report.columns
    assert cols["registered"] == v.LATER_WORDING["registered"]
    assert cols["ballots_issued_station"] == v.LATER_WORDING["ballots_issued_station"]
    assert cols["ballots_mobile_box"] == v.LATER_WORDING["ballots_mobile_box"]
    assert cols["ballots_unaccounted"] == v.LATER_WORDING["ballots_unaccounted"]
    assert e.ingest_report.rest_refused[v.CERTIFICATES_UNACCOUNTED] == "protocol line"
    assert e.totals()["ballots_issued"] == truth["ballots_issued"]


def test_oik_column_is_an_identifier_not_a_candidate(base, truth):
    e = read_frame(v.with_oik(base))
    _same_reading(e, truth)
    assert e.ingest_report.rest_refused["oik"] == "identifier header (district)"


def test_protocol_line_in_unfamiliar_wording_is_matched_by_meaning_not_made_a_candidate(
    base, truth
):
    # the preset's stems miss this wording of "ballots received"; the vocabulary still knows it
    header = "Получено избирательных бюллетеней участковой комиссией"
    df = base.rename({RUSSIA_COLUMNS["ballots_received"]: header})
    e = read_frame(df)
    _same_reading(e, truth)
    assert e.ingest_report.columns["ballots_received"] == header
    assert header not in e.ingest_report.rest_taken


def test_protocol_line_with_no_model_field_is_refused_by_rest(base, truth):
    extra = "Число избирательных бюллетеней, выданных повторно взамен испорченных"
    df = base.with_columns(pl.lit("3").alias(extra)).select([*base.columns[:-1], extra, "url"])
    e = read_frame(df)
    _same_reading(e, truth)
    assert (
        e.ingest_report.rest_refused[extra]
        == "protocol line (ballots_spoilt, already mapped or not needed)"
    )


def test_unknown_protocol_line_taken_as_candidate_fails_the_gates(base):
    # a line no vocabulary knows becomes a "candidate" at ~130 % of the valid votes: refused, not analysed
    df = v.unknown_protocol_line(base)
    with pytest.raises(IngestError) as exc:
        read_frame(df, source="misread.csv")
    msgs = [i.message for i in exc.value.issues]
    assert any(m.startswith("refused (candidates_sum_valid)") for m in msgs)
    assert any(
        m.startswith("refused (candidate_le_valid): 'Получено УИК' has more votes") for m in msgs
    )
    text = str(exc.value)
    assert "Получено УИК" in text and '[candidates] ignore = ["Получено УИК"]' in text
    assert "This reading used registered = " in text  # the columns it would have used
    fixed = parse_mapping(
        {**_preset_dict(), "candidates": {"rest": True, "ignore": ["url", "Получено УИК"]}}, "fix"
    )
    assert read_frame(df, mapping=fixed).totals()["leader_votes"] > 0


def _preset_dict():
    import tomllib
    from importlib import resources

    return tomllib.loads(
        resources.files("pollwatch.ingest.presets").joinpath("russia_cec.toml").read_text("utf-8")
    )


def test_levels_keep_the_station_rows_and_count_the_others(tmp_path, base, truth):
    df = v.with_levels(base)
    e = read_election(_zip(tmp_path, df))
    _same_reading(e, truth)
    rep = e.ingest_report
    assert rep.rows_selected == {"level": ("УИК",)}
    assert rep.rows_skipped == {
        "level = ЦИК": 1,
        "level = ИКСРФ": 4,
        "level = ТИК": df.filter(pl.col("level") == "ТИК").height,
    }
    assert rep.rest_refused["level"] == "text header (level)"


def test_levels_without_a_station_value_are_refused_with_the_values_to_choose_from(base, truth):
    df = v.with_levels(base, station="3", tik="2", region="1", national="0")
    with pytest.raises(IngestError, match="rows of several commission levels") as exc:
        read_frame(df)
    (issue,) = exc.value.issues
    assert (
        "'3' (240 rows)" in issue.value
        and '[station] level = { column = "level", value = "..." }' in issue.hint
    )
    m = parse_mapping(
        {
            **_preset_dict(),
            "station": {**_preset_dict()["station"], "level": {"column": "level", "value": "3"}},
        },
        "m",
    )
    _same_reading(read_frame(df, mapping=m), truth)


def test_two_contests_are_refused_then_chosen(base, truth):
    df = v.two_contests(base)
    with pytest.raises(IngestError, match="the file holds 2 contests") as exc:
        read_frame(df)
    assert "'Выборы Президента' (240 rows)" in exc.value.issues[0].value
    d = _preset_dict()
    m = parse_mapping(
        {
            **d,
            "station": {
                **d["station"],
                "contest": {"column": "election", "value": "Выборы Президента"},
            },
        },
        "m",
    )
    e = read_frame(df, mapping=m)
    _same_reading(e, truth)
    assert e.ingest_report.rows_skipped == {"election = Выборы Губернатора": N}


def test_evoting_rows_are_pseudo_stations_not_duplicates(tmp_path, base, truth, sim):
    df = v.with_evoting(base, candidate=truth["leader"])
    e = read_election(_zip(tmp_path, df))
    assert e.n_stations == N + 4
    assert e.ingest_report.exclusions.get("evoting") == 4
    _same_reading(
        e, {**truth, "leader_votes": e.totals()["leader_votes"], "votes": e.totals()["votes"]}
    )
    ev = e.table.filter(pl.col("exclusion") == "evoting")["station_id"].to_list()
    assert len(set(ev)) == 4 and all("/e-voting@" in s for s in ev)
    assert not [
        f for f in e.ingest_report.findings if "implausible" in f.message
    ]  # 150,000 voters is fine for e-voting


def test_territory_without_results_stays_excluded(base, truth):
    e = read_frame(v.with_no_results(base, k=3))
    assert e.n_stations == N + 3
    assert e.ingest_report.exclusions.get("no_results") == 3
    assert not e.ingest_report.findings  # a row with nothing published is not a data error
    _same_reading(e, truth)


def test_some_counts_blank_are_findings_never_silent_zeros(base, truth, sim):
    valid_col, lost_col = RUSSIA_COLUMNS["valid"], RUSSIA_COLUMNS["ballots_lost"]
    cand = truth["leader"]
    df = v.with_blanks(base, {valid_col: [4], lost_col: [10, 11, 12], cand: [20]})
    e = read_frame(df, source="blanks.csv")
    rep = e.ingest_report
    assert rep.exclusions.get("missing_counts") == 1
    by_col = {f.column: f for f in rep.findings}
    assert by_col[valid_col].line == 6 and "missing_counts" in by_col[valid_col].message
    assert by_col[lost_col].line == 12 and "at 3 stations" in by_col[lost_col].message
    assert by_col[cand].line == 22 and "no votes given" in by_col[cand].message
    assert e.table["valid"][4] is None  # kept missing, not 0


def test_referendum_options_are_the_candidates_and_valid_is_derived(tmp_path, sim, truth):
    df = v.referendum(sim.election)
    e = read_election(_zip(tmp_path, df))
    t = e.totals()
    assert [c.name for c in e.candidates] == ["Да", "Нет"]
    assert t["votes"]["Да"] == truth["leader_votes"]
    assert t["votes"]["Да"] + t["votes"]["Нет"] == truth["valid"]
    assert t["valid"] == truth["valid"]
    assert e.ingest_report.derived == {"valid": "sum(candidates)"}
    assert "valid" not in e.ingest_report.columns


def test_referendum_with_explicit_derivations(sim, truth):
    df = v.referendum(sim.election).rename({"Да": "Yes", "Нет": "No"})
    d = _preset_dict()
    m = parse_mapping(
        {**d, "derive": {"valid": ["Yes", "No"]}, "candidates": {"columns": ["Yes", "No"]}}, "m"
    )
    e = read_frame(df, mapping=m)
    assert (
        e.totals()["valid"] == truth["valid"]
        and e.totals()["votes"]["Yes"] == truth["leader_votes"]
    )
    m2 = parse_mapping(
        {**d, "derive": {"valid": "ballots_stationary_box + ballots_mobile_box - invalid"}}, "m2"
    )
    assert read_frame(df, mapping=m2).totals()["valid"] == truth["valid"]


def test_derive_syntax_is_checked_not_evaluated():
    d = _preset_dict()
    for bad, msg in [
        ("__import__('os')", "not a model field"),
        ("invalid * 2", "cannot read it"),
        ("registred + invalid", "not a model field"),
        ("valid", "refers to itself"),
    ]:
        with pytest.raises(ConfigError, match=msg):
            parse_mapping({**d, "derive": {"valid": bad}}, "m")


LONG = """
[station]
id = ["region", "district", "station"]
hierarchy = ["region", "district"]
[fields]
registered = "Registered voters"
valid = "Valid ballots"
invalid = "Invalid ballots"
[long]
candidate = "candidate"
votes = "votes"
"""


def test_long_layout_is_pivoted(tmp_path, sim, truth):
    m = tmp_path / "long.toml"
    m.write_text(LONG, encoding="utf-8")
    df = v.long_layout(sim.election)
    p = tmp_path / "long.csv"
    df.write_csv(p)
    e = read_election(p, mapping=m)
    t = e.totals()
    assert e.n_stations == N and t["votes"] == truth["votes"] and t["leader"] == truth["leader"]
    assert (t["registered"], t["valid"]) == (truth["registered"], truth["valid"])
    assert any(
        w.column == "percent" and "differs between" in w.message for w in e.ingest_report.warnings
    )
    # the same frame, in memory, through the library API
    assert read_election(df, mapping=m).totals()["votes"] == truth["votes"]


def test_long_layout_with_a_station_line_that_differs_is_refused(tmp_path, sim):
    m = tmp_path / "long.toml"
    m.write_text(LONG, encoding="utf-8")
    df = v.set_cell(v.long_layout(sim.election), "Valid ballots", 1, "1")
    with pytest.raises(IngestError, match="differs between the rows of one station") as exc:
        read_frame(df, mapping=m)
    assert (exc.value.issues[0].line, exc.value.issues[0].column) == (2, "Valid ballots")


def test_long_layout_duplicate_candidate_row(tmp_path, sim):
    m = tmp_path / "long.toml"
    m.write_text(LONG, encoding="utf-8")
    df = v.long_layout(sim.election)
    df = pl.concat([df, df.head(1)])
    with pytest.raises(IngestError, match="the same candidate twice for one station") as exc:
        read_frame(df, mapping=m)
    assert exc.value.issues[0].line == df.height + 1


def test_nine_billion_voters_read_into_int64_and_exclude_the_station(tmp_path, base, truth):
    reg = RUSSIA_COLUMNS["registered"]
    df = v.set_cell(base, reg, 7, "9000000000")
    e = read_election(_zip(tmp_path, df))
    assert e.table["registered"][7] == 9_000_000_000
    assert e.ingest_report.exclusions.get("implausible_count") == 1
    (f,) = [f for f in e.ingest_report.findings if "implausible" in f.message]
    assert (f.line, f.column, f.value) == (9, reg, "9000000000")
    assert e.subset(e.analysable()).n_stations == N - 1


def test_votes_ten_times_the_registered_voters_are_implausible(base, truth):
    cand = truth["leader"]
    df = v.set_cell(base, cand, 3, str(10 * int(base[RUSSIA_COLUMNS["registered"]][3]) + 1))
    e = read_frame(df)
    assert e.ingest_report.exclusions.get("implausible_count") == 1
    assert [f.column for f in e.ingest_report.findings] == [cand]


def test_issued_mapped_to_the_wrong_line_fails_the_issued_gate(base):
    d = _preset_dict()
    fields = {**d["fields"], "ballots_issued_station": RUSSIA_COLUMNS["ballots_received"]}
    fields.pop("ballots_received")
    m = parse_mapping({**d, "fields": fields}, "wrong")
    with pytest.raises(IngestError, match=r"refused \(issued_vs_cast\)"):
        read_frame(base, mapping=m)
    m2 = parse_mapping({**d, "fields": fields, "plausibility": {"enforce": False}}, "lenient")
    e = read_frame(base, mapping=m2)
    assert any(f.message.startswith("refused (issued_vs_cast)") for f in e.ingest_report.findings)


def test_text_columns_are_never_candidates(tmp_path):
    df = pl.DataFrame(
        {
            "pec": ["1", "2", "3"],
            "name": ["School 1", "School 2", "Club"],
            "commission": ["A", "B", "C"],
            "reg": ["100", "200", "300"],
            "valid": ["60", "100", "150"],
            "invalid": ["1", "2", "3"],
            "Alice": ["40", "50", "100"],
            "Bob": ["20", "50", "50"],
            "site": ["http://x/1", "http://x/2", ""],
        }
    )
    m = parse_mapping(
        {
            "station": {"id": "pec"},
            "fields": {"registered": "reg", "valid": "valid", "invalid": "invalid"},
            "candidates": {"rest": True},
        },
        "m",
    )
    e = read_frame(df, mapping=m)
    rep = e.ingest_report
    assert rep.rest_taken == ("Alice", "Bob")
    assert rep.rest_refused == {
        "name": "text header (name)",
        "commission": "text, not counts (e.g. 'A')",
        "site": "text, not counts (e.g. 'http://x/1')",
    }
    assert e.leader.name == "Alice"


def test_territory_rows_without_results_and_without_station_numbers(base, truth):
    df = v.with_no_results(base, k=2)
    df = v.with_blanks(df, {"uik": [N, N + 1], "tik": [N, N + 1]})  # the same blank id twice
    e = read_frame(df)
    assert e.ingest_report.exclusions.get("no_results") == 2
    ids = e.table.filter(pl.col("exclusion") == "no_results")["station_id"].to_list()
    assert ids == [
        f"Территория без результатов///no-results@{N + 2}",
        f"Территория без результатов///no-results@{N + 3}",
    ]
    _same_reading(e, truth)


def test_a_level_column_naming_only_stations_needs_no_choice(base, truth):
    df = v.with_levels(base).filter(pl.col("level") == "УИК")
    e = read_frame(df)
    _same_reading(e, truth)
    assert e.ingest_report.rows_skipped == {}


def test_a_column_that_lost_the_ranking_is_never_a_candidate(base, truth):
    # two columns read as "valid ballots"; the exact protocol wording wins, the other is no candidate
    extra = "Число действительных бюллетеней (копия)"
    df = base.with_columns(pl.col(RUSSIA_COLUMNS["valid"]).alias(extra))
    d = _preset_dict()
    m = parse_mapping(
        {**d, "fields": {**d["fields"], "valid": {"name": RUSSIA_COLUMNS["valid"]}}}, "m"
    )
    e = read_frame(df, mapping=m)
    _same_reading(e, truth)
    assert e.ingest_report.rest_refused[extra].startswith("protocol line")
    with pytest.raises(IngestError, match="field 'valid' matches 2 columns equally well") as exc:
        read_frame(df)  # the preset's stems match both equally: refused, naming both, with the fix
    assert f'[fields] valid = "{RUSSIA_COLUMNS["valid"]}"' in exc.value.issues[0].hint


def test_long_layout_with_protocol_lines_as_items(tmp_path, sim, truth):
    # the protocol lines are rows too: mapped ones become fields, the others are refused as candidates
    m = tmp_path / "items.toml"
    m.write_text(
        LONG.replace('candidate = "candidate"', 'candidate = "item"').replace(
            'votes = "votes"', 'votes = "count"'
        ),
        encoding="utf-8",
    )
    e = read_frame(v.long_items(sim.election), mapping=m)
    t = e.totals()
    assert t["votes"] == truth["votes"] and t["valid"] == truth["valid"]
    assert e.ingest_report.rest_refused == {"Ballots issued": "protocol line"}
    assert e.ingest_report.rest_taken == tuple(truth["votes"])


def test_rest_refuses_percentages_but_keeps_counts_with_a_separator_for_the_hint():
    df = pl.DataFrame(
        {
            "pec": ["1", "2"],
            "reg": ["1000", "2000"],
            "valid": ["1100", "1500"],
            "invalid": ["1", "2"],
            "Alice": ["1 000", "1 000"],
            "Bob": ["100", "500"],
            "Alice share": ["90.9", "66.7"],
        }
    )
    m = parse_mapping(
        {
            "station": {"id": "pec"},
            "fields": {"registered": "reg", "valid": "valid", "invalid": "invalid"},
            "candidates": {"rest": True},
        },
        "m",
    )
    with pytest.raises(IngestError, match="votes for 'Alice' are not a count") as exc:
        read_frame(df, mapping=m)
    assert "set [source] thousands" in exc.value.issues[0].hint
    m2 = parse_mapping(
        {
            "station": {"id": "pec"},
            "source": {"thousands": " "},
            "fields": {"registered": "reg", "valid": "valid", "invalid": "invalid"},
            "candidates": {"rest": True},
        },
        "m2",
    )
    e = read_frame(df, mapping=m2)
    assert e.ingest_report.rest_taken == ("Alice", "Bob")
    assert e.ingest_report.rest_refused["Alice share"].startswith("decimal numbers")


@pytest.mark.parametrize(
    "patch,msg",
    [
        ({"long": {"candidate": "c"}}, r"\[long\] needs candidate"),
        ({"plausibility": {"max_votes": 1}}, r"\[plausibility\] has unknown keys \['max_votes'\]"),
        ({"station": {"id": "pec", "level": {"col": "level"}}}, r"\[station\] level must be"),
        ({"derive": {"turnout": "sum(candidates)"}}, r"\[derive\] turnout: not a model field"),
    ],
)
def test_new_mapping_keys_are_checked(patch, msg):
    base_map = {
        "station": {"id": "pec"},
        "fields": {"registered": "reg", "valid": "valid", "invalid": "invalid"},
        "candidates": {"rest": True},
    }
    with pytest.raises(ConfigError, match=msg):
        parse_mapping({**base_map, **patch}, "m")


def test_level_value_that_does_not_occur_lists_the_values(base):
    d = _preset_dict()
    m = parse_mapping(
        {**d, "station": {**d["station"], "level": {"column": "level", "value": "PEC"}}}, "m"
    )
    with pytest.raises(IngestError, match="level value not found") as exc:
        read_frame(v.with_levels(base), mapping=m)
    assert "'УИК' (240 rows)" in exc.value.issues[0].expected


def test_cli_ingest_shows_the_reading_and_refuses_a_misreading(tmp_path, base):
    import json

    from typer.testing import CliRunner

    from pollwatch.cli import app

    p = tmp_path / "levels.csv"
    v.with_levels(base).write_csv(p)
    res = CliRunner().invoke(app, ["ingest", str(p), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["rows_left_out"]["level = ИКСРФ"] == 4 and doc["candidate_columns_refused"]["level"]
    assert doc["gates"]["candidates_sum_valid"].startswith("ok")
    bad = tmp_path / "misread.csv"
    v.unknown_protocol_line(base).write_csv(bad)
    res = CliRunner().invoke(app, ["ingest", str(bad)])
    assert res.exit_code == 1 and "refused (candidate_le_valid)" in res.output


def test_a_field_in_wording_the_preset_misses_is_matched_by_meaning(base, truth):
    # "Выдано" does not contain the preset's stem "выданн": the vocabulary still reads it as in-station issued
    header = "Выдано бюллетеней в помещении для голосования"
    df = base.rename({RUSSIA_COLUMNS["ballots_issued_station"]: header})
    e = read_frame(df)
    _same_reading(e, truth)
    assert e.ingest_report.columns["ballots_issued_station"] == header
    assert e.totals()["ballots_issued"] == truth["ballots_issued"]
    assert any("whose wording means it" in w.message for w in e.ingest_report.warnings)


def test_every_variation_at_once(tmp_path, base, truth):
    df = v.with_levels(
        v.with_no_results(
            v.with_evoting(v.with_oik(v.later_wording(base)), candidate=truth["leader"])
        )
    )
    e = read_election(_zip(tmp_path, df))
    rep = e.ingest_report
    assert rep.exclusions == {"evoting": 4, "no_results": 3}
    assert e.n_stations == N + 7 and set(rep.rows_skipped) == {
        "level = ЦИК",
        "level = ИКСРФ",
        "level = ТИК",
    }
    a = e.subset(e.analysable()).totals()
    assert (a["registered"], a["valid"], a["votes"]) == (
        truth["registered"],
        truth["valid"],
        truth["votes"],
    )
    assert all(g.startswith("ok") for g in rep.gates.values())


def test_total_rows_without_a_level_column_are_refused_or_skipped_on_request(base, truth):
    df = v.with_levels(base).drop(
        "level"
    )  # the totals rows are still there, told apart only by blank ids
    with pytest.raises(IngestError, match="empty station id") as exc:
        read_frame(df)
    assert 'blank_id = "skip"' in exc.value.issues[0].hint
    d = _preset_dict()
    m = parse_mapping({**d, "station": {**d["station"], "blank_id": "skip"}}, "m")
    e = read_frame(df, mapping=m)
    _same_reading(e, truth)
    assert e.ingest_report.rows_skipped == {
        "blank region+tik+uik (totals of a higher level)": df.height - N
    }


def test_broken_protocols_at_some_stations_are_read_not_refused(base, truth):
    # one valid ballot too many at 5 % of stations: validate's finding, not a misreading
    col = RUSSIA_COLUMNS["valid"]
    rows = list(range(0, N, 20))
    df = base.with_columns(
        pl.when(pl.int_range(pl.len()).is_in(rows))
        .then(pl.col(col).cast(pl.Int64) + 1)
        .otherwise(pl.col(col).cast(pl.Int64))
        .cast(pl.Utf8)
        .alias(col)
    )
    e = read_frame(df)
    assert (
        e.ingest_report.gates["candidates_sum_valid"]
        == f"ok: they add up at 95.0 % of {N} stations"
    )


def test_evoting_told_apart_only_by_the_level_column(base, truth):
    df = v.with_levels(v.with_evoting(base, candidate=truth["leader"], tik="ТИК 99"))
    deg = (pl.col("tik") == "ТИК 99") & (pl.col("level") == "УИК")
    df = df.with_columns(pl.when(deg).then(pl.lit("ДЭГ")).otherwise(pl.col("level")).alias("level"))
    e = read_frame(df)
    assert e.ingest_report.exclusions == {"evoting": 4}
    assert e.ingest_report.rows_selected == {"level": ("УИК", "ДЭГ")}
    assert e.subset(e.analysable()).totals()["votes"] == truth["votes"]
