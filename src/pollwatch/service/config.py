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
