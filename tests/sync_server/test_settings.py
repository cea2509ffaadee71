"""GLOWDESK_ settings: defaults, environment, URLs and the secret key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pydantic
import pytest

from sync_server.app import create_app
from sync_server.settings import SECRET_KEY_FILENAME, ConfigError, Settings


def test_defaults_embed_sqlite_in_the_server_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.server_home == tmp_path / "server-home"
    assert settings.database_url == f"sqlite:///{tmp_path}/server-home/glowdesk-server.db"
    assert settings.is_sqlite
    assert settings.twilio_api_url == "https://api.twilio.com"
    assert settings.stripe_api_url == "https://api.stripe.com"
    assert settings.meta_graph_url == "https://graph.facebook.com"
    assert settings.google_ads_api_url == "https://googleads.googleapis.com"
    assert not (tmp_path / "server-home").exists()


def test_environment_overrides_and_postgres_urls_use_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLOWDESK_DATABASE_URL", "postgres://app@db.internal/glowdesk")
    monkeypatch.setenv("GLOWDESK_STRIPE_API_URL", "http://127.0.0.1:12111")
    monkeypatch.setenv("GLOWDESK_PUBLIC_URL", "https://spa.example.com")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://app@db.internal/glowdesk"
    assert settings.is_postgresql
    assert settings.stripe_api_url == "http://127.0.0.1:12111"
    assert settings.public_url == "https://spa.example.com"


def test_an_unknown_database_scheme_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="sqlite:/// or postgresql"):
        Settings(database_url="mysql://x@y/z")


def test_the_embedded_server_generates_its_secret_once(tmp_path: Path) -> None:
    settings = Settings(server_home=tmp_path / "home")
    key = settings.ensure_secret_key()
    path = tmp_path / "home" / SECRET_KEY_FILENAME
    assert len(key) >= 48
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert Settings(server_home=tmp_path / "home").ensure_secret_key() == key


def test_a_configured_secret_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLOWDESK_SECRET_KEY", "from-the-environment")
    assert Settings(server_home=tmp_path).ensure_secret_key() == "from-the-environment"
    assert not (tmp_path / SECRET_KEY_FILENAME).exists()


def test_postgresql_needs_a_shared_secret(tmp_path: Path) -> None:
    settings = Settings(server_home=tmp_path, database_url="postgresql+psycopg://u@h/d")
    with pytest.raises(ConfigError, match="GLOWDESK_SECRET_KEY"):
        settings.ensure_secret_key()
    with pytest.raises(ConfigError):
        create_app(settings)


def test_processes_racing_to_create_the_secret_agree(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings = Settings(server_home=tmp_path / "home")
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: settings.ensure_secret_key(), range(16)))
    assert len(keys) == 1
    assert [p.name for p in (tmp_path / "home").iterdir()] == [SECRET_KEY_FILENAME]
