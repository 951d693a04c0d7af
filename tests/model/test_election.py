"""The Election model: derived quantities, candidates, exclusions, persistence."""

import math

import numpy as np
import polars as pl
import pytest

from pollwatch.errors import CandidateError, MissingFieldError
from pollwatch.model import Election, ElectionMeta


class TestDerived:
    def test_cast_turnout_share(self, small_election):
        e = small_election
        np.testing.assert_array_equal(e.ballots_cast(), [610, 520, 0, 1105, 300])
        t = e.turnout()
        assert t[0] == pytest.approx(0.61)
        assert math.isnan(t[2])  # zero registered: NaN, never 0
        s = e.share("Alpha")
        assert s[0] == pytest.approx(400 / 610)
        assert e.share("Alpha", denominator="valid")[0] == pytest.approx(400 / 600)

    def test_issued_basis_needs_issued_lines(self, small_election):
        with pytest.raises(MissingFieldError, match="ballots-issued"):
            small_election.turnout(basis="issued")

    def test_issued_sums_parts(self):
        e = Election.from_arrays(
            registered=[100, 100],
            valid=[50, 60],
            invalid=[1, 0],
            votes={"A": [30, 40], "B": [20, 20]},
            fields={"ballots_issued_station": [40, 50], "ballots_issued_mobile": [11, 10]},
        )
        np.testing.assert_array_equal(e.ballots_issued(), [51, 60])
        assert e.turnout("issued")[0] == pytest.approx(0.51)

    def test_bad_basis(self, small_election):
        with pytest.raises(ValueError, match="basis .* must be 'cast' or 'issued'"):
            small_election.turnout(basis="voters")


class TestCandidates:
    def test_winner_is_default_leader(self, small_election):
        assert small_election.leader.name == "Alpha"
        np.testing.assert_array_equal(small_election.votes(), [400, 200, 0, 1000, 100])

    def test_resolve_by_substring_and_scrutiny(self, small_election):
        assert small_election.candidate("bet").name == "Beta"
        assert small_election.with_scrutiny("Beta").leader.name == "Beta"

    def test_unknown_candidate_lists_choices(self, small_election):
        with pytest.raises(
            CandidateError, match="no candidate matches 'Gamma'; candidates are: 'Alpha', 'Beta'"
        ):
            small_election.candidate("Gamma")

    def test_ambiguous_candidate(self):
        e = Election.from_arrays(
            registered=[10], valid=[5], invalid=[0], votes={"Ivanov A": [3], "Ivanova B": [2]}
        )
        with pytest.raises(CandidateError, match="matches 2 candidates"):
            e.candidate("ivanov")


class TestExclusions:
    def test_reasons_kept_and_counted(self, small_election):
        assert small_election.n_stations == 5  # nothing dropped
        assert small_election.exclusion_counts() == {"zero_registered": 1}
        assert small_election.analysable().tolist() == [True, True, False, True, True]

    def test_zero_ballots_and_evoting(self):
        e = Election.from_arrays(
            registered=[100, 100, 5000],
            valid=[0, 50, 4000],
            invalid=[0, 0, 0],
            votes={"A": [0, 50, 4000]},
            hierarchy={"tik": ["1", "2", "Дистанционное электронное голосование"]},
        )
        assert e.exclusion.tolist() == ["zero_ballots", None, "evoting"]


class TestTotalsAndPersistence:
    def test_totals(self, small_election):
        t = small_election.totals()
        assert t["ballots_cast"] == 2535
        assert t["leader_votes"] == 1700
        assert t["turnout"] == pytest.approx(2535 / 3500)

    def test_group_codes_nest(self):
        e = Election.from_arrays(
            registered=[1, 1, 1],
            valid=[1, 1, 1],
            invalid=[0, 0, 0],
            votes={"A": [1, 1, 1]},
            hierarchy={"region": ["R1", "R2", "R1"], "tik": ["T", "T", "T"]},
        )
        codes, labels = e.level_codes("tik")
        assert len(labels) == 2 and codes[0] == codes[2] != codes[1]

    def test_parquet_roundtrip(self, small_election, tmp_path):
        p = tmp_path / "e.parquet"
        small_election.with_meta(country="XX", date="2024-02-07").to_parquet(p)
        back = Election.from_parquet(p)
        assert back.meta.country == "XX"
        assert back.meta.candidates == small_election.meta.candidates
        assert back.table.equals(small_election.table)

    def test_parquet_without_meta_is_refused(self, tmp_path):
        p = tmp_path / "plain.parquet"
        pl.DataFrame({"a": [1]}).write_parquet(p)
        with pytest.raises(ValueError, match="not a pollwatch Election parquet file"):
            Election.from_parquet(p)

    def test_million_stations_is_cheap(self):
        n = 1_000_000
        rng = np.random.default_rng(1)
        reg = rng.integers(100, 3000, n)
        valid = (reg * 0.6).astype(int)
        e = Election.from_arrays(
            registered=reg,
            valid=valid,
            invalid=np.zeros(n, int),
            votes={"A": valid // 2, "B": valid - valid // 2},
            meta=ElectionMeta(name="big"),
        )
        assert e.table.estimated_size() < 200e6
        assert np.nanmean(e.turnout()) == pytest.approx(0.6, abs=0.01)
