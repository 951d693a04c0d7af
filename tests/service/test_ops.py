"""``pollwatch doctor`` finds what is wrong; the JSON logs keep observers' addresses out."""

from __future__ import annotations

import json
import logging
import os

from pollwatch.service.config import Settings
from pollwatch.service.ops.doctor import run_checks
from pollwatch.service.ops.logs import JsonFormatter, anonymise, log_config

from .conftest import make_ctx


def _by_name(checks):
    return {c.name: c for c in checks}


def test_doctor_passes_a_fresh_service_and_fails_loose_keys_and_plain_http(tmp_path):
    ctx = make_ctx(tmp_path)
    s = ctx.settings
    checks = _by_name(run_checks(s))
    assert checks["database"].status == "ok", checks["database"]
    assert checks["key permissions"].status == "ok", checks["key permissions"].detail.split("; ")
    assert checks["sms webhook"].status == "ok"
    os.chmod(s.data_dir / "keys", 0o755)
    assert _by_name(run_checks(s))["key permissions"].status == "fail"
    http = _by_name(run_checks(s, url="http://pvt.example.org"))
    assert http["tls"].status == "fail" and "clear" in http["tls"].detail
    ctx.app.state.engine.dispose()


def test_doctor_fails_an_old_schema(tmp_path):
    url = f"sqlite:///{tmp_path}/empty.db"
    checks = _by_name(run_checks(Settings(database_url=url, data_dir=tmp_path / "d")))
    assert checks["database"].status == "fail" and "needs" in checks["database"].detail


def test_access_log_lines_keep_the_network_not_the_address():
    f = JsonFormatter("anonymised")
    rec = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', ("203.0.113.57:51234", "GET", "/api/me?token=abc", "1.1", 200), None)  # fmt: skip
    line = json.loads(f.format(rec))
    assert line["client"] == "203.0.113.0/24" and line["path"] == "/api/me"
    assert json.loads(JsonFormatter("full").format(rec))["client"] == "203.0.113.57"
    assert anonymise("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    cfg = log_config(access="off")
    assert cfg["loggers"]["uvicorn.access"]["handlers"] == []
