"""Service settings, read from ``POLLWATCH_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLLWATCH_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///pollwatch.db"
    data_dir: Path = Path("pollwatch-data")
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
