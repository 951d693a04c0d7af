"""Service settings, read from ``POLLWATCH_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLLWATCH_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///pollwatch.db"
    data_dir: Path = Path("pollwatch-data")
    sms_secret: str = ""
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

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, v: str) -> str:
        # a bare postgresql:// URL would pick psycopg2, which is not installed
        if v.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + v.split("://", 1)[1]
        return v

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"
