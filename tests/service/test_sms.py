"""SMS parser (pure) and the webhook: garbage never crashes it, every malformed message gets a
reply naming the problem, valid messages are stored once, replies follow the user's language."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pollwatch.service.sms import (
    LANGS,
    MESSAGES,
    ParsedResults,
    ParsedSms,
    SmsProblem,
    parse_sms,
)


class TestParser:
    @pytest.mark.parametrize(
        "text",
        [
            "OP 1234 #12-044 A08:15 B1 C1 D1500 E1 F0800",
            "op1234#12-044 a0815,b1;c1 d15OO e1 f08.00",
            "OP.1234.#12-044.A0815.B1.C1.D1500.E1.F0800",
        ],
    )
    def test_punctuation_case_and_lookalikes(self, text):
        p = parse_sms(text)
        assert isinstance(p, ParsedSms)
        assert (p.form, p.observer, p.station, p.missing) == ("opening", 1234, "12-044", ())
        assert p.answers == {
            "arrived_at": "08:15",
            "admitted": True,
            "boxes_empty_sealed": True,
            "ballots_received": 1500,
            "camera": "working",
            "opened_at": "08:00",
        }

    def test_lookalikes_in_observer_id(self):
        assert parse_sms("VT l2O4 A1").observer == 1204

    def test_partial_message_lists_missing(self):
        p = parse_sms("VT7 A120")
        assert p.missing == ("B", "C", "D")

    def test_incident_with_comment(self):
        p = parse_sms("IN 77 #5 BS S4 @ballots stuffed at 14:10, see photo")
        assert (p.category, p.severity, p.station, p.comment) == (
            "ballot_stuffing",
            "critical",
            "5",
            "ballots stuffed at 14:10, see photo",
        )

    @pytest.mark.parametrize(
        "text,key,fragment",
        [
            ("", "empty", "Empty"),
            ("  ,;  ", "empty", "Empty"),
            ("ZZ12 A1", "unknown_form", "'ZZ'"),
            ("OP", "no_observer", "OP"),
            ("OP12 Q1", "unknown_question", "'Q'"),
            ("OP12 A", "no_value", "A"),
            ("OP12 B7", "bad_value", "'7'"),
            ("OP12 B1 B0", "duplicate", "B"),
            ("IN12", "no_category", "CR"),
            ("IN12 XX", "unknown_category", "'XX'"),
            ("IN12 BS S9", "bad_severity", "S9"),
            ("OP12 1", "no_tag", "'1'"),
            ("x" * 2000, "too_long", "2000"),
        ],
    )
    def test_malformed_messages_name_the_problem(self, text, key, fragment):
        p = parse_sms(text)
        assert isinstance(p, SmsProblem) and p.key == key
        assert fragment in p.reply("en")

    def test_every_message_is_translated(self):
        # every reply reads differently in az and ru than in English (the catalogue has it)
        for key, text in MESSAGES.items():
            names = {
                f
                for t in ([text] if isinstance(text, str) else text)
                for _, f, _, _ in string.Formatter().parse(t)
                if f
            }
            replies = {lang: SmsProblem(key, {f: 7 for f in names}).reply(lang) for lang in LANGS}
            assert replies["az"] != replies["en"] != replies["ru"], key
        p = parse_sms("ZZ1")
        assert {p.reply(lang) for lang in LANGS}.__len__() == 3
        assert "Неизвестный" in p.reply("ru") and "Naməlum" in p.reply("az")

    @settings(max_examples=400, deadline=None)
    @given(st.text(max_size=300))
    @example("R0")  # a quick-count results message: its numbers are read against the election later
    def test_garbage_never_crashes_and_always_explains(self, text):
        p = parse_sms(text)
        assert isinstance(p, ParsedSms | ParsedResults | SmsProblem)
        if isinstance(p, SmsProblem):
            for lang in LANGS:
                reply = p.reply(lang)
                assert reply.strip() and "{" not in reply

    @settings(max_examples=300, deadline=None)
    @given(
        st.sampled_from(["OP", "VT", "CT", "IN", "op", "Xx"]),
        st.integers(0, 10**14),
        st.lists(
            st.tuples(
                st.sampled_from(list("ABCDEFGSQ") + ["BS", "CR", "ZZ"]),
                st.text("0123456789OIL:., ", max_size=6),
            ),
            max_size=8,
        ),
        st.sampled_from(["", " @note", " #12-4", "!!"]),
    )
    def test_structured_noise(self, code, observer, pairs, tail):
        text = f"{code}{observer} " + " ".join(a + b for a, b in pairs) + tail
        p = parse_sms(text)
        if isinstance(p, SmsProblem):
            assert p.reply("az").strip()
        else:
            assert p.observer == observer


PHONES = {"observer": "+994500000001", "observer2": "+994500000002"}  # as tests/service/conftest


class TestWebhook:
    def send(self, ctx, text, sender=PHONES["observer2"], secret="s3cret"):
        return ctx.client.post(
            "/api/sms/webhook",
            headers={"X-Pollwatch-Secret": secret},
            data={"sender": sender, "text": text},
        )

    def test_secret_required(self, ctx):
        assert self.send(ctx, "OP1 A1", secret="wrong").status_code == 401
        r = ctx.client.post("/api/sms/webhook?secret=s3cret", json={"sender": "1", "text": ""})
        assert r.status_code == 200 and not r.json()["ok"]

    def test_valid_checklist_stored_once(self, ctx):
        obs = ctx.users["observer2"]  # one assigned station: no #code needed
        text = f"OP{obs} A0715 B1 C1 D900 F0800"
        r = self.send(ctx, text)
        assert r.json()["ok"] and "Received OP" in r.json()["reply"], r.json()
        assert self.send(ctx, text).json()["ok"]
        rows = ctx.get("coordinator", "/api/checklists").json()
        assert rows["count"] == 1 and rows["data"][0]["channel"] == "sms"

    def test_station_needed_when_several(self, ctx):
        obs, phone = ctx.users["observer"], PHONES["observer"]
        r = self.send(ctx, f"VT{obs} A10", phone).json()
        assert not r["ok"] and "2 stations" in r["reply"]
        r = self.send(ctx, f"VT{obs} #2 A10", phone).json()
        assert r["ok"] and "You may be missing: B, C, D" in r["reply"]
        r = self.send(ctx, f"VT{obs} #4 A10", phone).json()
        assert not r["ok"] and "not assigned" in r["reply"]

    def test_other_id_and_language(self, ctx):
        assert "ID 9999 does not match" in self.send(ctx, "OP9999 B1").json()["reply"]
        r = self.send(ctx, f"OP{ctx.users['analyst']} B1").json()["reply"]
        assert f"ID {ctx.users['analyst']} does not match" in r
        with ctx.session() as s:
            from pollwatch.service import models as m

            s.get(m.User, ctx.users["observer2"]).language = "az"
            s.commit()
        r = self.send(ctx, f"OP{ctx.users['observer2']} B7").json()
        assert not r["ok"] and "yanlış cavab" in r["reply"]

    def test_incident_by_sms(self, ctx):
        r = self.send(ctx, f"IN{ctx.users['observer2']} CR S3 @bus of voters").json()
        assert r["ok"]
        inc = ctx.get("coordinator", "/api/incidents").json()["data"][0]
        assert (inc["form"], inc["severity"], inc["description"]) == (
            "carousel",
            "high",
            "bus of voters",
        )

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(text=st.text(max_size=120))
    def test_webhook_garbage(self, ctx, text):
        ctx.app.state.settings.sms_rate_limit = 10**6  # one sender, many examples
        r = self.send(ctx, text)
        assert r.status_code == 200 and r.json()["reply"].strip()
