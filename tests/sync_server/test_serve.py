"""``python -m sync_server serve`` as a real process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sync_server.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_migrates_and_answers_healthz(settings: Settings, backend: str) -> None:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GLOWDESK_SERVER_HOME": str(settings.server_home),
        "GLOWDESK_DATABASE_URL": settings.database_url,
        "GLOWDESK_SECRET_KEY": settings.ensure_secret_key(),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "sync_server", "serve", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start within 30 s"
                time.sleep(0.1)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert response.json()["database"] == backend
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=2).status_code == 401
        # Query strings may carry search text (patient data): the access log drops them.
        httpx.get(f"http://127.0.0.1:{port}/healthz", params={"q": "Jane Doe"}, timeout=2)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    output = server.stdout.read() if server.stdout else ""
    assert '"GET /healthz HTTP/1.1" 200' in output
    assert "Jane" not in output
