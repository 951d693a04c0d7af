"""Claims: loading, the Azerbaijan 2024 example dataset's contradictions, rules, data checks."""

from __future__ import annotations

import numpy as np
import pytest

from pollwatch.claims import Claim, check_claims, computed_figures, example_claims, load_claims
from pollwatch.claims.model import parse_value
from pollwatch.errors import InputDataError


@pytest.fixture(scope="module")
def az():
    return check_claims(example_claims("azerbaijan_2024"))


class TestAzerbaijan2024:
    def test_turnout_times_registered_below_valid(self, az):
        imp = az.of_kind("impossible")
        assert len(imp) == 1
        msg = imp[0].message
        assert msg.startswith("76.43 % of 6,478,623 = 4,951,612 ballots < 4,957,967 valid votes")
        assert "wrong" in msg and "CEC final turnout" in msg and "CEC voter lists" in msg
        # the arithmetic itself, independent of the message
        assert round(0.7643 * 6_478_623) == 4_951_612 < 4_957_967

    def test_other_turnouts_leave_room(self, az):
        # 77 % and the preliminary 76.73 % are not impossible; they disagree / are revisions
        assert not any("77" in f.message for f in az.of_kind("impossible"))
        rev = az.of_kind("revision")
        assert len(rev) == 1 and "76.73" in rev[0].message

    def test_disagreements(self, az):
        dis = {f.quantity: f for f in az.of_kind("disagreement")}
        assert set(dis) == {"winner_share", "turnout", "stations"}
        assert "92.3 %" in dis["winner_share"].message and "92.12 %" in dis["winner_share"].message
        assert "76.43 %" in dis["turnout"].message and "77 %" in dis["turnout"].message
        assert "218" in dis["stations"].message and "permanent" in dis["stations"].message
        # 92 % is 92.12 % rounded: not a contradiction
        assert not any("gives 92 %" in f.message for f in az.findings)

    def test_share_versus_votes(self, az):
        inc = {f.quantity: f for f in az.of_kind("inconsistent")}
        assert "92.124 %" in inc["candidate_share:Ilham Aliyev"].message
        # 26,517 / 4,957,967 = 0.5348 %: rounds to 0.53, published 0.54
        assert "candidate_share:Fuad Aliyev" in inc
        assert 100 * 26_517 / 4_957_967 < 0.535
        # the partial count of 8 Feb is internally consistent: 4,281,625 / 4,651,473 = 92.05 %
        assert not any("4,281,625" in f.message for f in az.findings)

    def test_exit_polls_are_agreement_not_verification(self, az):
        ex = az.of_kind("exit_poll")
        assert len(ex) == 3 and {f.claims[0].split(" ")[0] for f in ex} == {"93.9", "92.6", "92.4"}
        assert all("not verification" in f.message for f in ex)
        assert any("cannot detect ballot stuffing" in n for n in az.summary().notes)

    def test_winner_and_summary(self, az):
        assert az.winner == "Ilham Aliyev"
        text = az.summary().as_text()
        assert "1 impossible" in text
        d = az.to_dict()
        assert "claims" not in d and len(d["findings"]) == len(az.findings)


class TestRules:
    def c(self, q, v, **kw):
        return Claim(
            kw.pop("source", "S"),
            "",
            q,
            *parse_value(v)[:1],
            unit=kw.pop("unit", "%" if "share" in q or q == "turnout" else "count"),
            decimals=parse_value(v)[1],
            **kw,
        )

    def test_rounding_tolerance(self):
        ok = check_claims(
            [self.c("turnout", "60.4", source="A"), self.c("turnout", "60.449", source="B")]
        )
        assert not ok.findings
        bad = check_claims(
            [self.c("turnout", "60.4", source="A"), self.c("turnout", "60.46", source="B")]
        )
        assert [f.kind for f in bad.findings] == ["disagreement"]

    def test_shares_over_100(self):
        r = check_claims([self.c("candidate_share:X", "60"), self.c("candidate_share:Y", "45")])
        assert any(f.kind == "impossible" and "105.00 %" in f.message for f in r.findings)
        r2 = check_claims([self.c("candidate_share:X", "55"), self.c("candidate_share:Y", "45.4")])
        assert not r2.findings  # 100.4 % is within the rounding of two whole-percent figures

    def test_votes_exceed_valid_and_sum(self):
        r = check_claims(
            [
                self.c("candidate_votes:X", "120"),
                self.c("candidate_votes:Y", "10"),
                self.c("valid_votes", "100"),
            ]
        )
        kinds = [f.kind for f in r.findings]
        assert kinds.count("impossible") == 1 and kinds.count("inconsistent") == 1

    def test_ballots_cast_rule(self):
        r = check_claims(
            [self.c("turnout", "50"), self.c("registered", "1000"), self.c("ballots_cast", "600")]
        )
        assert [f.kind for f in r.findings] == ["impossible"] and "ballots cast" in r.findings[
            0
        ].message

    def test_against_election(self, small_election):
        comp = computed_figures(small_election)
        assert comp["stations"] == 5 and comp["valid_votes"] == 2500
        r = check_claims(
            [
                self.c("stations", "5"),
                self.c("winner_share", "68.00"),
                self.c("valid_votes", "2,600"),
            ],
            small_election,
        )
        assert r.winner == "Alpha"
        # Alpha: 1700 / 2500 = 68 %
        assert [f.kind for f in r.findings] == ["data"] and "2,600" in r.findings[0].message

    @pytest.mark.parametrize(
        "text, value, decimals",
        [
            ("92.12 %", 92.12, 2),
            ("6,537", 6537, 0),
            ("76,43", 76.43, 2),
            ("4 957 967", 4957967, 0),
            (92, 92, 0),
        ],
    )
    def test_parse_value(self, text, value, decimals):
        assert parse_value(text) == (pytest.approx(value), decimals)

    def test_bad_values(self):
        with pytest.raises(ValueError, match="not a number"):
            parse_value("ninety")
        with pytest.raises(ValueError, match="unit"):
            Claim("S", "", "turnout", 1.0, unit="percent")
        with pytest.raises(ValueError, match="stage"):
            Claim("S", "", "turnout", 1.0, stage="draft")


class TestLoad:
    def test_csv_and_yaml(self, tmp_path):
        p = tmp_path / "c.csv"
        p.write_text(
            "source,speaker,quantity,value,unit,date,url,note\nCEC,Chair,turnout,61.20,%,2024,,\n"
            "TV,,turnout,63,%,2024,,\n"
        )
        cs = load_claims(p)
        assert cs[0].decimals == 2 and cs[0].value == pytest.approx(61.2) and cs[1].tolerance == 0.5
        y = tmp_path / "c.yaml"
        y.write_text("- {source: A, quantity: stations, value: '1,200'}\n")
        assert load_claims(y)[0].value == 1200 and load_claims(y)[0].unit == "count"

    def test_errors(self, tmp_path):
        y = tmp_path / "c.yaml"
        y.write_text("- {source: A, quantity: stations}\n")
        with pytest.raises(InputDataError, match="lacks value"):
            load_claims(y)
        p = tmp_path / "c.csv"
        p.write_text("source,quantity,value\nA,turnout,abc\n")
        with pytest.raises(InputDataError) as exc:
            load_claims(p)
        assert exc.value.issues[0].line == 2
        with pytest.raises(ValueError, match="name"):
            example_claims("atlantis")

    def test_example_dataset_complete(self):
        cs = example_claims()
        votes = sum(
            c.value for c in cs if c.quantity.startswith("candidate_votes:") and c.stage == "final"
        )
        assert votes == 4_957_967
        assert all(c.source for c in cs)
        assert np.isclose(sum(c.value for c in cs if c.kind == "exit_poll"), 93.9 + 92.6 + 92.4)
