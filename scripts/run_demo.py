"""`make run`: the clinic server on embedded SQLite with the demo clinic, and a desktop enrolled to it.

1. Seeds the demo clinic server-side the first time (``python -m sync_server demo``).
2. Starts the Twilio and Meta Graph stand-ins (``python -m tests.standins``) and connects the demo
   clinic to them (``integrations set``), so texts, delivery receipts, lead ads and DMs work as
   they would with the real providers; ``scripts/demo_event.py`` plays a client texting in, a
   lead ad or a DM.
3. Starts ``python -m sync_server serve --with-worker`` on 127.0.0.1 (port GLOWDESK_PORT, 8765).
4. Enrols the desktop data folder the first time (enrollment code + ``python -m app enroll``),
   which downloads the clinic.
5. Opens the desktop app (``python main.py``); closing it stops the server.

``--serve-only`` does all but step 5 and serves until Ctrl+C (more desktops can enrol meanwhile).
Data lives in ``./var/`` (server in var/server, desktop in var/desktop) unless
GLOWDESK_SERVER_HOME / GLOWDESK_HOME say otherwise. Without a display the desktop prints why and
this script exits with its status. This script sits outside the app and sync_server packages: it
only runs their command lines, so the two never import each other.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def say(line: str) -> None:
    print(f"glowdesk: {line}", flush=True)


def run(args: list[str], env: dict[str, str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([PY, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        reason = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise SystemExit(f"glowdesk: {' '.join(args[:3])} failed: {reason[-1] if reason else result.returncode}")
    return result


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("glowdesk: the server stopped while starting; see var/server/server.log")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("glowdesk: the server did not answer /healthz within 30 s")


def main(argv: list[str] | None = None) -> int:
    serve_only = "--serve-only" in (sys.argv[1:] if argv is None else argv)
    var = ROOT / "var"
    server_home = Path(os.environ.get("GLOWDESK_SERVER_HOME", var / "server"))
    desktop_home = Path(os.environ.get("GLOWDESK_HOME", var / "desktop"))
    port = int(os.environ.get("GLOWDESK_PORT", "8765"))
    url = f"http://127.0.0.1:{port}"
    server_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GLOWDESK_SERVER_HOME=str(server_home), GLOWDESK_HOME=str(desktop_home))
    env.setdefault("GLOWDESK_PUBLIC_URL", url)

    marker = server_home / ".demo-seeded"
    if not marker.exists():
        say("seeding the demo clinic on the server (first run only)...")
        run(["-m", "sync_server", "migrate"], env)
        out = run(["-m", "sync_server", "demo", "--patients", os.environ.get("GLOWDESK_DEMO_PATIENTS", "2000")],
                  env)
        info = json.loads(out.stdout)
        marker.write_text(json.dumps({"slug": info["slug"], "clinic_id": info["clinic_id"]}))
    slug = json.loads(marker.read_text())["slug"]

    if not port_free(port):
        raise SystemExit(f"glowdesk: port {port} is in use; set GLOWDESK_PORT to another port")
    log = open(server_home / "server.log", "ab")  # noqa: SIM115 - closed at exit
    standins = start_standins(url, log)
    server: subprocess.Popen[bytes] | None = None
    try:
        line = standins.stdout.readline() if standins.stdout else ""
        if not line:
            raise SystemExit("glowdesk: the Twilio and Meta stand-ins did not start; see var/server/server.log")
        outside = json.loads(line)
        (server_home / "standins.json").write_text(json.dumps({"control_url": outside["control_url"]}))
        env.update(GLOWDESK_TWILIO_API_URL=outside["GLOWDESK_TWILIO_API_URL"],
                   GLOWDESK_META_GRAPH_URL=outside["GLOWDESK_META_GRAPH_URL"])
        connected = server_home / ".demo-integrations"
        if not connected.exists():
            twilio, meta = outside["twilio"], outside["meta"]
            run(["-m", "sync_server", "integrations", "set", "--clinic", slug,
                 "--twilio-account-sid", twilio["account_sid"], "--twilio-auth-token", twilio["auth_token"],
                 "--twilio-from", twilio["from"], "--meta-app-secret", meta["app_secret"],
                 "--meta-verify-token", meta["verify_token"], "--meta-page-id", meta["page_id"],
                 "--meta-page-token", meta["page_token"], "--meta-instagram-id", meta["instagram_id"]], env)
            connected.write_text("stand-ins")
        server = subprocess.Popen(
            [PY, "-m", "sync_server", "serve", "--port", str(port), "--with-worker"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_healthy(url, server)
        say(f"clinic server running at {url}")
        enrolled = desktop_home / ".enrolled"
        if not enrolled.exists():
            code = json.loads(run(["-m", "sync_server", "enrollment-code", "--clinic", slug], env).stdout)["code"]
            say("enrolling this desktop and downloading the clinic...")
            out = run(["-m", "app", "enroll", url, code, "--device-name", "Front desk (demo)"], env)
            say(out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "enrolled")
            enrolled.write_text(url)
        if serve_only:
            say(f"demo ready: server {url}, desktop home {desktop_home}; Ctrl+C stops it")
            stop = {"now": False}
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.update(now=True))
            while not stop["now"] and server.poll() is None:
                time.sleep(0.2)
            return 0
        say("opening the desktop app (demo PINs: docs/staff-guide.md; owner Olivia Owens 1234)")
        app = subprocess.run([PY, "main.py"], cwd=ROOT, env=env)
        return app.returncode
    finally:
        for process in (server, standins):
            if process is None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        say("clinic server stopped")


def start_standins(server_url: str, log: Any) -> subprocess.Popen[str]:
    """The provider stand-ins, printing their URLs and demo credentials as one JSON line."""
    return subprocess.Popen(
        [PY, "-m", "tests.standins", "--server-url", server_url], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=log, text=True,
    )


if __name__ == "__main__":
    sys.exit(main())
