"""Service settings, read from ``POLLWATCH_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pollwatch.evidence.keys import (
    SIGNING_KEY_FILE,
    SigningKeyError,
    is_encrypted,
    load_or_create_signing_key,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLLWATCH_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///pollwatch.db"
    data_dir: Path = Path("pollwatch-data")
    # the checklists' directory (*.yaml, see service.forms); None: the package's own checklists
    forms_dir: Path | None = None
    # the SMS gateway's shared secret: the webhook refuses every call while it is empty, and
    # with a wrong or missing secret or signature (401); see docs/security/identity-and-input.md
    sms_secret: str = ""
    # accept only HMAC-signed webhook calls (X-Pollwatch-Signature), not the bare secret
    sms_require_signature: bool = False
    sms_signature_max_age: int = 300  # seconds a signed call's X-Pollwatch-Timestamp is valid
    # rate limits, counted in the database (shared by every worker) per fixed window
    sms_rate_window: int = 60  # seconds
    sms_rate_limit: int = 10  # messages per sender number per window
    sms_unregistered_limit: int = 30  # messages per window from all unregistered senders together
    session_cookie: str = "pollwatch_session"
    token_bytes: int = 32
    pool_size: int = 10
    # data minimisation (issue 18): keep uploaded originals as received, GPS and all (opt-in)
    keep_original_metadata: bool = False
    # days the SMS log keeps senders and texts before ``pollwatch sms redact`` wipes them
    sms_retention_days: int = 30
    # sessions (docs/security/sessions.md)
    session_hours: float = 12.0  # lifetime of a login cookie
    token_hours: float = 12.0  # lifetime of an API bearer token (refresh: /api/login/refresh)
    behind_tls: bool = False  # a TLS proxy in front: cookies are Secure even over plain HTTP
    trusted_proxies: list[str] = []  # addresses whose X-Forwarded-For names the client
    docs: bool = False  # /openapi.json (no /docs, /redoc: their assets come from a CDN)
    login_free_failures: int = 5  # per account and address, before the backoff starts
    login_account_failures: int = 20  # per account from any address
    login_address_failures: int = 50  # per address, any account (carrier NAT shares addresses)
    login_max_backoff: float = 900.0  # seconds
    # SQLite's PRAGMA synchronous: FULL (default) syncs every commit before it is acknowledged;
    # NORMAL is faster but may lose the last acknowledged commits in a power cut (docs/security)
    sqlite_synchronous: str = "FULL"
    # request bodies, in bytes, refused with 413 while they stream in (service.limits): every
    # route not listed below, and every request that presents no credential at all
    max_body_bytes: int = 1024 * 1024
    max_sms_bytes: int = 64 * 1024  # the SMS gateway's webhook
    max_upload_bytes: int = 26 * 1024 * 1024  # a photo: POST /api/media, the no-JS forms
    max_import_bytes: int = 100 * 1024 * 1024  # an election's results file (admin)
    # images larger than this (width x height) are refused before they are decoded: a few KB of
    # PNG can declare 10^10 pixels (a decompression bomb); 40 MP covers phone cameras
    max_image_pixels: int = 40_000_000
    # read each uploaded protocol photo's QR code and numbers (OCR) for the census arbiter
    # (issue 21): ~3 s of a core per photo without a QR code, done before the write transaction
    census_machine_reading: bool = True
    # argon2 checks at once per process (each ~0.1-0.3 s of a core and 64 MiB): anyone can ask
    # for one, so a crowd of wrong passwords must not take every core (security.py)
    max_password_checks: int = 2
    # public feed requests computed at once per process (anonymous: a crowd of readers waits
    # its turn instead of taking the CPU from the submissions; service.limits.Gate)
    max_public_reads: int = 2
    # the evidence signing key (issue 18): encrypted at rest under a passphrase kept apart from
    # the data directory; a plaintext key only with the insecure flag (demo, tests)
    key_passphrase: str = ""
    key_passphrase_file: Path | None = None
    insecure_plaintext_key: bool = False
    # checkpoints that leave the server: the log's name on them, the job's period (seconds;
    # 0 = only on demand), witnesses (comma-separated URLs) and an RFC 3161 authority
    checkpoint_origin: str = "pollwatch"
    checkpoint_interval: float = 300.0
    witnesses: str = ""
    tsa_url: str = ""
    tsa_certificate: Path | None = None
    receipts: bool = True
    # logs (docs/deploy.md §7): level, json or text, and the access log: anonymised (client
    # address cut to /24 or /48, no query string), full, or off
    log_level: str = "info"
    log_format: str = "json"
    access_log: str = "anonymised"
    # blind second counts of camera windows (cameras.doublecount, docs/cameras.md): the share of
    # filed windows re-counted by another watcher (0 = none), and the design's seed: set a secret
    # before election day (watchers who know it can compute which windows get checked) and
    # publish it afterwards so anyone can recompute the sample
    camera_recount_share: float = 0.10
    camera_recount_seed: str = ""

    def gated(self) -> dict[tuple[str, str], int]:
        """(method, path prefix) -> requests at once (``service.limits.Gate``)."""
        return {
            ("POST", "/api/login/access-token"): self.max_password_checks,
            ("POST", "/login"): self.max_password_checks,
            ("GET", "/api/public/"): self.max_public_reads,
        }

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, v: str) -> str:
        # a bare postgresql:// URL would pick psycopg2, which is not installed
        if v.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + v.split("://", 1)[1]
        return v

    @field_validator("sqlite_synchronous")
    @classmethod
    def _synchronous(cls, v: str) -> str:
        if v.upper() not in ("FULL", "EXTRA", "NORMAL"):
            raise ValueError("sqlite_synchronous must be FULL, EXTRA or NORMAL")
        return v.upper()

    @field_validator("camera_recount_share")
    @classmethod
    def _share(cls, v: float) -> float:
        if not 0 <= v <= 1:
            raise ValueError("camera_recount_share must be between 0 and 1")
        return v

    def body_limits(self) -> dict[str, int]:
        """Path prefix -> the largest body accepted there (``max_body_bytes`` elsewhere)."""
        return {
            "/api/sms": self.max_sms_bytes,
            "/api/media": self.max_upload_bytes,
            "/file/": self.max_upload_bytes,
            "/api/elections/import": self.max_import_bytes,
            # an XLSForm, a people CSV (20,000 lines are about 2 MB)
            "/api/forms/import": self.max_upload_bytes,
            "/api/users/import": self.max_upload_bytes,
            "/people/": self.max_upload_bytes,
            # the registered quick-count sample (CSV + sidecar): a few hundred kB per 10,000
            "/api/quickcount": self.max_upload_bytes,
            "/quickcount": self.max_upload_bytes,
            # protocol photos in bulk (issue 21): up to 200 at once, each ≤ 25 MB
            "/api/census": self.max_import_bytes,
            "/census/": self.max_import_bytes,
        }

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def witness_urls(self) -> list[str]:
        return [u.strip() for u in self.witnesses.split(",") if u.strip()]

    def signing_key(self):
        """The evidence signing key of ``data_dir`` (created encrypted on first use). Raises
        ``SigningKeyError`` for a missing or wrong passphrase, and for a key stored unencrypted
        unless ``insecure_plaintext_key`` (``POLLWATCH_INSECURE_PLAINTEXT_KEY=1``) is set:
        ``pollwatch evidence rotate-key`` with a passphrase encrypts it."""

        key = load_or_create_signing_key(
            self.data_dir,
            passphrase=self.key_passphrase or None,
            passphrase_file=self.key_passphrase_file,
            allow_plaintext=self.insecure_plaintext_key,
        )
        path = self.data_dir / "keys" / SIGNING_KEY_FILE
        if not self.insecure_plaintext_key and not is_encrypted(path.read_bytes()):
            raise SigningKeyError(
                f"the evidence signing key {path} is stored unencrypted: encrypt it with "
                "`pollwatch evidence rotate-key` and POLLWATCH_KEY_PASSPHRASE (or "
                "POLLWATCH_KEY_PASSPHRASE_FILE), or set POLLWATCH_INSECURE_PLAINTEXT_KEY=1 for a "
                "demo"
            )
        return key
