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

    @property
    def witness_urls(self) -> list[str]:
        return [u.strip() for u in self.witnesses.split(",") if u.strip()]

    def signing_key(self):
        """The evidence signing key of ``data_dir`` (created encrypted on first use). Raises
        ``SigningKeyError`` for a missing or wrong passphrase, and for a key stored unencrypted
        unless ``insecure_plaintext_key`` (``POLLWATCH_INSECURE_PLAINTEXT_KEY=1``) is set:
        ``pollwatch evidence rotate-key`` with a passphrase encrypts it."""
        from pollwatch.evidence.keys import (
            SIGNING_KEY_FILE,
            SigningKeyError,
            is_encrypted,
            load_or_create_signing_key,
        )

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
