"""Server settings, read from the environment (prefix ``GLOWDESK_``) by pydantic-settings.

Nothing here touches the disk or the network when imported or when :class:`Settings` is built;
:meth:`Settings.ensure_secret_key` is the one method that may create a file (the embedded
server's generated secret).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import GlowdeskError

#: The SQLite file inside ``SERVER_HOME`` used when no ``DATABASE_URL`` is given.
SQLITE_FILENAME = "glowdesk-server.db"
#: Where the embedded server keeps the secret it generated for itself.
SECRET_KEY_FILENAME = "secret_key"


class ConfigError(GlowdeskError):
    """The server's configuration cannot work as given (a missing secret, a bad URL...)."""

    code = "config"
    status = 500


class Settings(BaseSettings):
    """Every knob of the server. Environment variables are ``GLOWDESK_`` + the upper-cased name."""

    model_config = SettingsConfigDict(env_prefix="GLOWDESK_", extra="ignore", frozen=True)

    #: Data folder: the SQLite database (embedded mode), the generated secret, stored files.
    server_home: Path = Path("./server-home")
    #: ``postgresql+psycopg://user@host/db`` in production; empty means SQLite in ``server_home``.
    database_url: str = ""
    #: The URL the outside world reaches this server at (providers sign webhooks against it).
    public_url: str = "http://127.0.0.1:8000"
    #: Keys HMACs of enrollment codes (and later signed links). Generated in ``server_home``
    #: for the embedded SQLite server; required with PostgreSQL (every process must share it).
    secret_key: SecretStr | None = None

    twilio_api_url: str = "https://api.twilio.com"
    stripe_api_url: str = "https://api.stripe.com"
    meta_graph_url: str = "https://graph.facebook.com"
    google_ads_api_url: str = "https://googleads.googleapis.com"

    #: Connection pool per process (PostgreSQL); keep processes x (size + overflow) under
    #: the server's ``max_connections``.
    db_pool_size: int = 5
    db_max_overflow: int = 10

    @field_validator("server_home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return Path(os.path.abspath(os.path.expanduser(value)))

    @field_validator("database_url", mode="after")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        value = value.strip()
        # psycopg 3 is the PostgreSQL driver we ship; accept the URLs people paste.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix):]
        if value and not value.startswith(("sqlite", "postgresql+psycopg://")):
            raise ValueError(
                "GLOWDESK_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL"
            )
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{self.server_home / SQLITE_FILENAME}"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_postgresql(self) -> bool:
        return self.database_url.startswith("postgresql")

    def ensure_secret_key(self) -> str:
        """The secret key: configured, or (embedded SQLite only) generated once into the home."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        if not self.is_sqlite:
            raise ConfigError(
                "Set GLOWDESK_SECRET_KEY: with PostgreSQL every server process and command "
                "must share one secret key."
            )
        path = self.server_home / SECRET_KEY_FILENAME
        if path.exists():
            return _read_secret(path)
        self.server_home.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        # Write a private temporary file, then link it into place: readers never see a
        # half-written key, and of two processes racing, the first link wins for both.
        tmp = path.with_name(f".{SECRET_KEY_FILENAME}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return _read_secret(path)


def _read_secret(path: Path) -> str:
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise ConfigError(f"The secret key file {path} is empty; remove it to generate a new key.")
    return key
