"""``pollwatch doctor``: is this deployment safe to open on election day? (``docs/deploy.md`` §6)

Each check returns ok, warn or fail with one line saying what to do. Checks: the database
answers and its schema is the newest; ``keys/`` is readable by its owner only and the signing key
is encrypted; the disk under the data directory has room; the SMS webhook has a secret; and,
given the public URL, that it is HTTPS with a certificate valid for more than two weeks, that
the proxy forwards the client's address to a trusted-proxy setting, and that the service marks
its cookies Secure.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import stat
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from pollwatch.evidence.keys import SIGNING_KEY_FILE, is_encrypted
from pollwatch.service.config import Settings
from pollwatch.service.db import alembic_config

__all__ = ["Check", "run_checks"]


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str

    def to_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "detail": self.detail}


def _database(settings: Settings) -> list[Check]:
    url = settings.database_url
    try:
        eng = create_engine(url)
        with eng.connect() as c:
            current = (
                c.execute(text("SELECT version_num FROM alembic_version")).scalar()
                if inspect(c).has_table("alembic_version")
                else None
            )
        eng.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding
        return [Check("database", "fail", f"cannot connect: {str(exc).splitlines()[0][:200]}")]
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    where = url.split("@")[-1]
    if current == head:
        return [Check("database", "ok", f"{where}: schema at {head}")]
    return [Check("database", "fail", f"{where}: schema at {current}, this version needs {head}: run `pollwatch serve` (it migrates) or restore a backup")]  # fmt: skip


def _keys(settings: Settings) -> list[Check]:
    keys = settings.data_dir / "keys"
    if not keys.exists():
        return [Check("keys", "warn", f"{keys} does not exist yet (the service creates it at first start)")]  # fmt: skip
    # public keys (*.pub) are meant to be read; everything else here is secret
    loose = [
        str(p)
        for p in [keys, *keys.rglob("*")]
        if p.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO) and not p.name.endswith(".pub")
    ]
    out = []
    if loose:
        out.append(Check("key permissions", "fail", f"readable by group or others: {'; '.join(loose[:5])}: chmod 700 {keys}; chmod 600 its files"))  # fmt: skip
    else:
        out.append(Check("key permissions", "ok", f"{keys}: owner only"))
    sk = keys / SIGNING_KEY_FILE
    if not sk.exists():
        out.append(Check("signing key", "warn", "no evidence signing key yet (created at first start)"))  # fmt: skip
    elif is_encrypted(sk.read_bytes()):
        out.append(Check("signing key", "ok", "encrypted at rest"))
    else:
        out.append(Check("signing key", "fail", "stored unencrypted: `pollwatch evidence rotate-key` with POLLWATCH_KEY_PASSPHRASE"))  # fmt: skip
    return out


def _disk(settings: Settings) -> list[Check]:
    d = settings.data_dir if settings.data_dir.exists() else Path.cwd()
    free = shutil.disk_usage(d).free
    gb = free / 2**30
    if gb < 0.2:
        return [Check("disk", "fail", f"{gb:.2f} GB free under {d}: photos and the database will fail to write")]  # fmt: skip
    if gb < 2:
        return [Check("disk", "warn", f"{gb:.1f} GB free under {d}: election-day photos need several GB")]  # fmt: skip
    return [Check("disk", "ok", f"{gb:.0f} GB free under {d}")]


def _settings(settings: Settings) -> list[Check]:
    out = []
    out.append(
        Check("sms webhook", "ok", "secret set")
        if settings.sms_secret
        else Check(
            "sms webhook",
            "warn",
            "POLLWATCH_SMS_SECRET is empty: the SMS webhook refuses every message",
        )  # fmt: skip
    )
    if settings.insecure_plaintext_key:
        out.append(Check("insecure flag", "fail", "POLLWATCH_INSECURE_PLAINTEXT_KEY is set: for demos only"))  # fmt: skip
    return out


def _tls(url: str, settings: Settings, cafile: Path | None) -> list[Check]:
    parts = urlsplit(url)
    out = []
    if parts.scheme != "https":
        return [Check("tls", "fail", f"{url} is not HTTPS: passwords and tokens would cross the network in the clear")]  # fmt: skip
    ctx = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    host, port = parts.hostname or "", parts.port or 443
    try:
        with socket.create_connection((host, port), timeout=10) as raw, ctx.wrap_socket(raw, server_hostname=host) as tls:  # fmt: skip
            cert = tls.getpeercert()
    except (OSError, ssl.SSLError) as exc:
        return [Check("tls", "fail", f"{host}:{port}: {exc}")]
    if not cert or not isinstance(cert.get("notAfter"), str):
        return [Check("tls", "fail", f"{host}:{port}: the server sent no certificate to check")]
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(cert["notAfter"])), UTC)
    days = (not_after - datetime.now(UTC)).days
    out.append(
        Check(
            "tls",
            "ok" if days > 14 else "warn",
            f"certificate valid for {days} more day(s) (until {not_after:%Y-%m-%d})",
        )  # fmt: skip
    )
    try:
        req = urllib.request.Request(url.rstrip("/") + "/health")
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:  # noqa: S310 - an https URL the operator gave
            seen = json.loads(r.read())
    except (OSError, ValueError) as exc:
        return [*out, Check("service", "fail", f"{url}/health: {exc}")]
    out.append(Check("service", "ok" if seen.get("status") == "ok" else "fail", f"{url}/health answered {seen.get('status')!r}"))  # fmt: skip
    if seen.get("proxied"):
        out.append(Check("proxy headers", "ok", "the proxy forwards the client's address and is trusted"))  # fmt: skip
    else:
        out.append(Check("proxy headers", "fail", "the service does not see a trusted proxy: set X-Forwarded-For in the proxy and POLLWATCH_TRUSTED_PROXIES to its address (login throttling would count every observer as one)"))  # fmt: skip
    if seen.get("secure"):
        out.append(Check("secure cookies", "ok", "cookies are marked Secure"))
    else:
        out.append(Check("secure cookies", "fail", "the service does not know it is behind TLS: set POLLWATCH_BEHIND_TLS=1"))  # fmt: skip
    return out


def run_checks(settings: Settings, *, url: str | None = None, cafile: Path | None = None) -> list[Check]:  # fmt: skip
    """Every check; with ``url`` (the public address) also TLS and the proxy."""
    checks = [*_database(settings), *_keys(settings), *_disk(settings), *_settings(settings)]
    if url:
        checks += _tls(url, settings, cafile)
    return checks
