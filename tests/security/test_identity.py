"""Issue 18 items 1 and 8 (identity on every channel): an SMS counts only from the phone
registered for its observer, answers a stranger with one generic reply, is rate-limited per
sender; a camera watcher files only at the stations assigned to it."""

from __future__ import annotations

import pytest


class TestCameraWatcherStations:
    """Item 8: camera watchers could file (camera) incidents for any station."""

    def test_camera_incident_at_unassigned_station_refused(self, ctx):
        body = ctx.incident(ctx.stations[3], category="camera_covered")
        r = ctx.post("camera_watcher", "/api/incidents", json=body)
        assert r.status_code == 403 and r.json()["detail"] == "Station not assigned to you"
        assert ctx.get("coordinator", "/api/incidents").json()["count"] == 0

    def test_camera_incident_at_assigned_station_accepted(self, ctx):
        body = {"user_id": ctx.users["camera_watcher"], "station_id": ctx.stations[3]}
        assert ctx.post("coordinator", "/api/assignments", json=body).status_code == 201
        body = ctx.incident(ctx.stations[3], category="camera_covered")
        assert ctx.post("camera_watcher", "/api/incidents", json=body).status_code == 201
        body = ctx.incident(ctx.stations[2], category="camera_covered")
        assert ctx.post("camera_watcher", "/api/incidents", json=body).status_code == 403

    @pytest.mark.parametrize("path", ["/api/elections/{e}/stations"])
    def test_camera_watcher_lists_only_assigned_stations(self, ctx, path):
        r = ctx.get("camera_watcher", path.format(e=ctx.election_id))
        assert r.status_code == 200 and r.json()["count"] == 0


# ---- item 1: SMS impersonation -----------------------------------------------------------------

STRANGER = "+15550100000"  # no user has this number
PHONES = {"observer": "+994500000001", "observer2": "+994500000002"}  # tests/service/conftest
GENERIC = "Message not accepted."


def sms(ctx, sender: str, text: str, client=None, **headers):
    client = client or ctx.client
    headers = headers or {"X-Pollwatch-Secret": "s3cret"}
    return client.post("/api/sms/webhook", headers=headers, data={"sender": sender, "text": text})


def stored(ctx) -> int:
    from sqlalchemy import func, select

    from pollwatch.service import models as m

    with ctx.session() as s:
        return s.scalar(select(func.count()).select_from(m.Submission))


class TestSmsImpersonation:
    def test_unregistered_number_cannot_file_as_an_observer(self, ctx):
        r = sms(ctx, STRANGER, f"IN{ctx.users['observer2']} BS S4 @box stuffed")
        assert r.status_code == 200 and r.json() == {"ok": False, "reply": GENERIC}
        assert stored(ctx) == 0

    def test_observer_cannot_file_as_another_observer(self, ctx):
        r = sms(ctx, PHONES["observer"], f"IN{ctx.users['observer2']} BS S4 @box stuffed")
        assert not r.json()["ok"] and "does not match" in r.json()["reply"]
        assert stored(ctx) == 0

    def test_registered_number_in_any_spelling_files(self, ctx):
        r = sms(ctx, "00 994 (50) 000-00-02", f"IN{ctx.users['observer2']} BS S4 @box stuffed")
        assert r.json()["ok"], r.json()
        assert stored(ctx) == 1

    def test_inactive_or_non_field_users_phone_is_a_stranger(self, ctx):
        from pollwatch.service import crud, privacy
        from pollwatch.service import models as m

        with ctx.session() as s:
            s.get(m.User, ctx.users["observer2"]).active = False
            analyst = s.get(m.User, ctx.users["analyst"])  # phones are sealed, found by index
            analyst.phone_enc = privacy.seal(s.info["data_key"], "+994500000007", "users.phone")
            analyst.phone_index = crud.phone_lookup_key(s, "+994500000007")
            s.commit()
        r = sms(ctx, PHONES["observer2"], f"IN{ctx.users['observer2']} BS S4")
        assert r.json() == {"ok": False, "reply": GENERIC}
        r = sms(ctx, "+994500000007", f"IN{ctx.users['analyst']} BS S4")
        assert r.json() == {"ok": False, "reply": GENERIC}
        assert stored(ctx) == 0

    def test_strangers_learn_nothing_from_replies(self, ctx):
        """Before: 'Unknown observer ID 9999' vs 'Station 4 is not assigned to observer 3',
        '2 stations'... Now one reply, whatever the id and station."""
        ctx.app.state.settings.sms_unregistered_limit = 100
        obs, admin = ctx.users["observer"], ctx.users["admin"]
        probes = [
            f"IN{obs} BS S4",  # an observer with two stations
            f"IN{obs} #1 BS S4",  # one of theirs
            f"IN{obs} #4 BS S4",  # not theirs
            f"IN{ctx.users['observer2']} BS",
            f"IN{admin} BS",  # a user who does not file
            "IN9999 BS",  # no such id
            "OP9999 B7",
            "ZZ1",
            "",
        ]
        replies = {sms(ctx, STRANGER, p).json()["reply"] for p in probes}
        assert replies == {GENERIC}
        assert {sms(ctx, STRANGER, p).json()["reply"] for p in ("ОП1", "ИН1 BS")} == {
            "Сообщение не принято."
        }
        assert stored(ctx) == 0


class TestSmsRateLimits:
    def test_per_sender_limit_then_429_and_nothing_stored(self, ctx):
        from sqlalchemy import func, select

        from pollwatch.service import models as m

        ctx.app.state.settings.sms_rate_limit = 3
        text = f"IN{ctx.users['observer2']} BS S4 @x"
        codes = [sms(ctx, PHONES["observer2"], f"{text}{i}").status_code for i in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        r = sms(ctx, PHONES["observer2"], text)
        assert r.json() == {"ok": False, "reply": ""} and r.headers["retry-after"] == "60"
        # another observer is not affected
        assert sms(ctx, PHONES["observer"], f"IN{ctx.users['observer']} #1 BS").json()["ok"]
        with ctx.session() as s:
            assert s.scalar(select(func.count()).select_from(m.SmsMessage)) == 4
            # counted under the numbers' blind indexes, never the numbers in the clear
            from pollwatch.service import crud

            keys = set(s.scalars(select(m.SmsRate.key)))
            assert keys == {crud.phone_lookup_key(s, p) for p in PHONES.values()}
        assert stored(ctx) == 4

    def test_unregistered_senders_share_one_bucket(self, ctx):
        ctx.app.state.settings.sms_unregistered_limit = 2
        codes = [sms(ctx, f"+1555010000{i}", "IN1 BS").status_code for i in range(4)]
        assert codes == [200, 200, 429, 429]
        # registered observers still get through
        assert sms(ctx, PHONES["observer2"], f"IN{ctx.users['observer2']} BS").json()["ok"]

    def test_limit_is_shared_by_workers(self, ctx):
        """Two app instances (two workers) on one database count against the same limit."""
        from pollwatch.service.main import create_app

        TestClient = type(ctx.client)

        ctx.app.state.settings.sms_rate_limit = 2
        other = create_app(ctx.app.state.settings, run_migrations=False)
        with TestClient(other) as client2:
            text = f"IN{ctx.users['observer2']} BS S4 @"
            assert sms(ctx, PHONES["observer2"], text + "a").status_code == 200
            assert sms(ctx, PHONES["observer2"], text + "b", client=client2).status_code == 200
            assert sms(ctx, PHONES["observer2"], text + "c").status_code == 429
            assert sms(ctx, PHONES["observer2"], text + "d", client=client2).status_code == 429
        other.state.engine.dispose()


class TestWebhookAuthentication:
    def signed(self, ctx, body: bytes, stamp: str | None = None, secret: str = "s3cret"):
        import time

        from pollwatch.service.api.routes.sms import sign

        stamp = stamp or str(int(time.time()))
        return {
            "X-Pollwatch-Timestamp": stamp,
            "X-Pollwatch-Signature": sign(secret, stamp, body),
            "Content-Type": "application/json",
        }

    def post(self, ctx, body: bytes, headers: dict):
        return ctx.client.post("/api/sms/webhook", content=body, headers=headers)

    def body(self, ctx) -> bytes:
        import json

        return json.dumps(
            {"sender": PHONES["observer2"], "text": f"IN{ctx.users['observer2']} BS"}
        ).encode()

    def test_signed_call_accepted(self, ctx):
        b = self.body(ctx)
        r = self.post(ctx, b, self.signed(ctx, b))
        assert r.status_code == 200 and r.json()["ok"], r.text

    @pytest.mark.parametrize("attack", ["wrong_key", "tampered", "stale", "future", "bad_stamp"])
    def test_bad_signatures_401(self, ctx, attack):
        import time

        b = self.body(ctx)
        now = int(time.time())
        headers = {
            "wrong_key": lambda: self.signed(ctx, b, secret="guess"),
            "tampered": lambda: self.signed(ctx, b.replace(b"BS", b"CR")),
            "stale": lambda: self.signed(ctx, b, stamp=str(now - 3600)),
            "future": lambda: self.signed(ctx, b, stamp=str(now + 3600)),
            "bad_stamp": lambda: self.signed(ctx, b, stamp="12e3"),
        }[attack]()
        if attack == "tampered":
            b = b.replace(b"BS", b"XX")
        r = self.post(ctx, b, headers)
        assert r.status_code == 401 and stored(ctx) == 0

    def test_unsigned_calls(self, ctx):
        b = self.body(ctx)
        plain = {"Content-Type": "application/json"}
        assert self.post(ctx, b, plain).status_code == 401
        assert self.post(ctx, b, {**plain, "X-Pollwatch-Secret": "nope"}).status_code == 401
        ctx.app.state.settings.sms_require_signature = True
        assert self.post(ctx, b, {**plain, "X-Pollwatch-Secret": "s3cret"}).status_code == 401
        assert self.post(ctx, b, self.signed(ctx, b)).status_code == 200
        ctx.app.state.settings.sms_secret = ""  # no secret configured: the webhook is off
        assert self.post(ctx, b, self.signed(ctx, b, secret="")).status_code == 403
        assert stored(ctx) == 1


class TestPhoneRegistration:
    def create(self, ctx, phone, name="newobs"):
        body = {"username": name, "password": "long-enough", "role": "observer", "phone": phone}
        return ctx.post("coordinator", "/api/users", json=body)

    def test_phone_stored_normalised(self, ctx):
        from pollwatch.service import crud
        from pollwatch.service import models as m

        r = self.create(ctx, "00 994 (55) 123-45-67")
        assert r.status_code == 201
        with ctx.session() as s:
            user = s.get(m.User, r.json()["id"])
            assert user.phone is None  # sealed at rest, found by its blind index
            assert crud.personal_data(s, user)["phone"] == "+994551234567"
            assert user.phone_index == crud.phone_lookup_key(s, "+994551234567")
            assert crud.find_observer_by_phone(s, "+994 55 123 45 67").id == user.id

    @pytest.mark.parametrize("phone", ["call me", "+", "1" * 41, "+99450\x00"])
    def test_not_a_phone_422(self, ctx, phone):
        assert self.create(ctx, phone).status_code == 422

    def test_same_number_twice_409(self, ctx):
        assert self.create(ctx, "+994 55 1234567").status_code == 201
        assert self.create(ctx, "00994551234567", name="other").status_code == 409
        assert self.create(ctx, PHONES["observer"], name="third").status_code == 409


def test_migration_normalises_registered_phones(tmp_path):
    """Phones registered before the check are rewritten to the form the intake compares."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from pollwatch.service.db import alembic_config

    url = f"sqlite:///{tmp_path}/old.db"
    command.upgrade(alembic_config(url), "0002")
    engine = create_engine(url)
    phones = ["+994 50 111 11 11", "00994501111111", "+994501111112", "not a phone", None]
    with engine.begin() as conn:
        for i, phone in enumerate(phones):
            conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, role, full_name, phone, "
                    "language, active, created_at) VALUES (:u, 'x', 'observer', '', :p, 'en', 1, "
                    "'2026-01-01')"
                ),
                {"u": f"u{i}", "p": phone},
            )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        got = [r[0] for r in conn.execute(text("SELECT phone FROM users ORDER BY id"))]
    engine.dispose()
    assert got == ["+994501111111", None, "+994501111112", None, None]


def test_migration_leaves_sealed_phones_alone(tmp_path):
    """Rows sealed by encryption at rest (``phone_enc``, ``phone_index``; ``phone`` empty) are
    not touched by the identity migration (it has no data key); a plaintext phone from before
    encryption beside them is normalised, and sealed normalised at start-up."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from pollwatch.service.db import alembic_config

    url = f"sqlite:///{tmp_path}/mixed.db"
    command.upgrade(alembic_config(url), "0004_sessions")
    engine = create_engine(url)
    with engine.begin() as conn:
        for name, phone, enc, index in [
            ("sealed", None, "enc1:opaque", "ab" * 32),
            ("plain", "00 994 50 111 11 13", None, None),
        ]:
            conn.execute(
                text(
                    "INSERT INTO users (username, password_hash, role, full_name, phone, "
                    "phone_enc, phone_index, language, active, created_at) VALUES (:u, 'x', "
                    "'observer', '', :p, :e, :i, 'en', 1, '2026-01-01')"
                ),
                {"u": name, "p": phone, "e": enc, "i": index},
            )
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        got = conn.execute(
            text("SELECT phone, phone_enc, phone_index FROM users ORDER BY id")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in got] == [
        (None, "enc1:opaque", "ab" * 32),
        ("+994501111113", None, None),
    ]
