"""The app factory, /healthz and /openapi.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from sync_server.app import create_app
from sync_server.db import SCHEMA_HEAD
from sync_server.settings import Settings


def test_healthz_reports_database_and_schema(client: TestClient, backend: str) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": backend, "schema": SCHEMA_HEAD}


def test_healthz_is_unavailable_before_migration(tmp_path: Path) -> None:
    app = create_app(Settings(server_home=tmp_path / "home", secret_key="k"))
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["detail"] == "The database schema is not up to date; run migrate."


def test_healthz_is_unavailable_when_the_database_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(
        server_home=tmp_path, secret_key="k",
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "detail": "The database is not reachable."}


def test_openapi_documents_the_api_and_its_credentials(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/healthz", "/api/v1/enroll", "/api/v1/me", "/api/v1/devices/{device_id}/revoke"} <= set(spec["paths"])
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyHeader"]["name"] == "X-Glowdesk-Staff"


def test_importing_the_server_has_no_side_effects(tmp_path: Path) -> None:
    """No folder, database or secret appears just because the modules were imported."""
    code = (
        "import sync_server.app, sync_server.cli, sync_server.deps, sync_server.db;"
        "from sync_server.migrations.models import load_all_models; load_all_models()"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, timeout=60,
                   env={"PATH": "/usr/bin:/bin", "GLOWDESK_SERVER_HOME": str(tmp_path / "home")})
    assert list(tmp_path.iterdir()) == []
