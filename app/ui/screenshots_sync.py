"""The screens of a workstation enrolled with a clinic server, for ``make screenshots``.

Runs a real clinic server (``python -m sync_server``, as a separate process on 127.0.0.1 with the
demo clinic seeded in a temporary folder: the app and the server never import each other), and
writes:

- ``first-run.png``: the first-run screen of an empty data folder, address and code typed;
- ``first-run-download.png``: the same workstation downloading the clinic (records so far);
- ``sync-review.png``: the review list after an offline edit lost to another desk's and an
  offline booking the server refused (a real conflict and a real double booking);
- ``offline.png``: Today with the offline banner and the status bar once the server is stopped
  and a client was edited;
- ``import.png``: the client-list import with the dry run's report.

Every change is made through the app's own services, sync engine and window.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OWNER, OWNER_PIN = "Olivia Owens", "1234"
PROVIDER, PROVIDER_PIN = "Nora Kim", "2222"
DESK, DESK_PIN = "Felix Park", "5555"
SAMPLE_CSV = (
    "First Name,Last Name,Mobile,Email,DOB,Member since\n"
    "Noor,Haddad,(415) 555-0177,noor.haddad@example.com,04/12/1991,2021\n"
    "Lena,Fischer,555-12,lena.f@example.com,,2022\n"
    "Ama,Owusu,(323) 555-0199,ama.owusu@example.com,1988-07-30,2020\n"
    "Bo,Chen,(213) 555-0142,bo.chen@example.com,1985-02-30,2023\n"
    "Noor,Haddad-Smith,,noor.haddad@example.com,,2023\n"
    "Iris,Moreno,(818) 555-0110,iris.moreno@example.com,11/02/1979,2019\n"
    "Sage,Whitfield,(626) 555-0163,,03/15/1996,2024\n"
)


class Server:
    """``python -m sync_server`` in its own data folder, on a free local port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GLOWDESK_")}
        self.env["GLOWDESK_SERVER_HOME"] = str(home)
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "sync_server", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=300, check=True)
        return done.stdout

    def cli(self, *args: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.run(*args))
        return result

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([sys.executable, "-m", "sync_server", "serve", "--port", str(self.port)],
                                        cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("the clinic server did not start")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.terminate()
            process.wait(15)


def take(outdir: Path, tmp: Path, *, wait: Callable[..., None], save: Callable[..., Path],
         size: tuple[int, int]) -> list[Path]:
    server = Server(tmp / "server")
    server.run("migrate")
    demo = server.cli("demo", "--patients", "400")
    server.start()
    try:
        return _screens(outdir, tmp, server, demo["slug"], wait=wait, save=save, size=size)
    finally:
        server.stop()


def _screens(outdir: Path, tmp: Path, server: Server, slug: str, *, wait: Callable[..., None],
             save: Callable[..., Path], size: tuple[int, int]) -> list[Path]:
    from PySide6.QtWidgets import QApplication

    from app.services.workspace import open_workspace
    from app.ui.enroll_dialog import FirstRunDialog
    from app.ui.operations import Operations

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    written: list[Path] = []

    def code() -> str:
        return str(server.cli("enrollment-code", "--clinic", slug)["code"])

    # 1. first run: an empty data folder, then the download under way
    os.environ["GLOWDESK_KEY_FILE"] = str(tmp / "room2.key")
    ops = Operations()
    workspace = open_workspace(tmp / "room2")
    try:
        dialog = FirstRunDialog(ops, workspace, pull_limit=250)
        dialog.url.setText(server.url)
        dialog.code.setText(code())
        dialog.name.setText("Treatment room 2")
        dialog.show()
        written.append(save(app, dialog, outdir / "first-run.png"))
        shot: list[Path] = []
        taking: list[bool] = []

        def mid_download(rows: int) -> None:
            if not taking and rows >= 1500:
                taking.append(True)  # saving processes events: a later report must not save again
                shot.append(save(app, dialog, outdir / "first-run-download.png"))

        dialog.progressed.connect(mid_download)
        dialog.submit()
        wait(app, lambda: dialog.outcome is not None, 120)
        written += shot
        dialog.close()
    finally:
        ops.shutdown(final=workspace.close)

    # 2. two desks with offline work that meets on the server
    front, room = _enrol(server, tmp, "front", code()), _enrol(server, tmp, "room1", code())
    slot, client = _stage_clash(front, room)
    written += _front_desk(outdir, tmp, server, front, slot, client, wait=wait, save=save, size=size)
    return written


def _enrol(server: Server, tmp: Path, name: str, code: str) -> Path:
    from app.services.workspace import open_workspace
    from app.sync import enroll

    os.environ["GLOWDESK_KEY_FILE"] = str(tmp / f"{name}.key")
    workspace = open_workspace(tmp / name)
    try:
        result = enroll(workspace.store, server.url, code, name.capitalize())
        if result.first_sync_error:
            raise RuntimeError(result.first_sync_error)
    finally:
        workspace.close()
    return tmp / name


def _stage_clash(front: Path, room: Path) -> tuple[datetime, str]:
    """Front desk (offline) edits a client's phone and books a slot; then the treatment room
    edits the same phone and books the same slot, and syncs first."""
    from app.services.appointments import AppointmentService
    from app.services.patients import PatientService
    from app.services.staff import sign_in
    from app.services.workspace import open_workspace
    from app.sync import SyncEngine

    os.environ["GLOWDESK_KEY_FILE"] = str(front.parent / "front.key")
    ws = open_workspace(front)
    try:
        clinic = ws.require_clinic()
        desk = sign_in(ws.store, pin=DESK_PIN, name=DESK)
        patients = PatientService(ws.store, clinic_id=clinic.id, region=clinic.region)
        client = next(h for h in patients.search(actor=desk, text="an", limit=40) if h.phone)
        booking = AppointmentService(ws.store, clinic_id=clinic.id, timezone=clinic.timezone)
        setup = booking.setup(actor=desk)
        nora = next(p for p in setup.providers if p.name.startswith(PROVIDER))
        service = next(s for s in setup.services if s.qualifies(nora.role) and not s.device_kind)
        room_id = setup.rooms[0].id if service.requires_room else None
        slot = _free_slot(booking, desk, service.id, nora.id, room_id)
        patients.update(actor=desk, patient_id=client.id, changes={"phone": "(415) 555-0101"})
        booking.create(actor=desk, patient_id=client.id, service_id=service.id, provider_id=nora.id,
                       start_at=slot, room_id=room_id)
    finally:
        ws.close()

    os.environ["GLOWDESK_KEY_FILE"] = str(room.parent / "room1.key")
    ws = open_workspace(room)
    try:
        clinic = ws.require_clinic()
        nurse = sign_in(ws.store, pin=PROVIDER_PIN, name=PROVIDER)
        PatientService(ws.store, clinic_id=clinic.id, region=clinic.region).update(
            actor=nurse, patient_id=client.id, changes={"phone": "(415) 555-0102"})
        AppointmentService(ws.store, clinic_id=clinic.id, timezone=clinic.timezone).create(
            actor=nurse, patient_id=client.id, service_id=service.id, provider_id=nora.id, start_at=slot,
            room_id=room_id)
        engine = SyncEngine.for_store(ws.store)
        try:
            engine.sync_once()
        finally:
            engine.close()
    finally:
        ws.close()
    return slot, client.id


def _free_slot(booking: Any, actor: Any, service_id: str, provider_id: str, room_id: str | None) -> datetime:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(booking.setup(actor=actor).timezone)
    day = datetime.now(UTC).astimezone(tz).date() + timedelta(days=1)
    for offset in range(14):
        for hour in (10, 11, 14, 15, 16, 9, 13, 17):
            start = datetime(day.year, day.month, day.day, hour, 0, tzinfo=tz) + timedelta(days=offset)
            if not booking.check(actor=actor, service_id=service_id, provider_id=provider_id, start_at=start,
                                 room_id=room_id):
                return start.astimezone(UTC)
    raise RuntimeError("no free slot for the screenshot booking")


def _front_desk(outdir: Path, tmp: Path, server: Server, home: Path, slot: datetime, client: str, *,
                wait: Callable[..., None], save: Callable[..., Path], size: tuple[int, int]) -> list[Path]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.services.workspace import open_workspace
    from app.ui.desk import Desk
    from app.ui.main_window import MainWindow
    from app.ui.operations import Operations
    from app.ui.sync_controller import RunnerOptions, SyncController

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    written: list[Path] = []
    os.environ["GLOWDESK_KEY_FILE"] = str(tmp / "front.key")
    ops = Operations()
    workspace = open_workspace(home)
    try:
        sync = SyncController(ops, workspace, options=RunnerOptions(debounce=0.05, backoff_base=0.3,
                                                                     backoff_cap=1.0))
        window = MainWindow(Desk(ops, workspace, actor=None), sync=sync)
        window.resize(*size)
        window.show()
        wait(app, lambda: window.signin.staff.count() > 0)
        for i in range(window.signin.staff.count()):
            if window.signin.staff.item(i).text() == OWNER:
                window.signin.staff.setCurrentRow(i)
        QTest.keyClicks(window.signin.pin, OWNER_PIN)
        QTest.keyClick(window.signin.pin, Qt.Key.Key_Return)
        wait(app, lambda: not window.locked)
        state = window.sync
        wait(app, lambda: state.state.conflicts_to_review >= 1 and state.state.rejected_changes >= 1, 60)

        window.open_sync_review()
        dialog = window.sync_review
        assert dialog is not None
        wait(app, lambda: dialog.items is not None and len(dialog.items) >= 2)
        refused = next(i for i in dialog.items or [] if i.kind == "refused")
        dialog.table.selectRow(dialog.model.row_of(refused.key))
        written.append(save(app, dialog, outdir / "sync-review.png"))
        dialog.accept()

        # the server goes away; an edit made meanwhile waits on this workstation
        server.stop()
        wait(app, lambda: not state.state.live_connected, 30)
        desk = window.desk
        box: list[Any] = []
        desk.update_patient(client, {"phone": "(415) 555-0103"}, on_success=box.append, on_failure=box.append)
        wait(app, lambda: bool(box))
        wait(app, lambda: window.sync_chrome.banner.isVisible() and state.state.pending_changes >= 1, 30)
        window.show_page("today")
        today = window.pages["today"]
        wait(app, lambda: not getattr(today, "loading", False))
        written.append(save(app, window, outdir / "offline.png"))

        window.show_page("clients")
        window.clients.import_clients()
        importer = window.clients.import_dialog
        assert importer is not None
        sample = tmp / "client-list.csv"
        sample.write_text(SAMPLE_CSV, encoding="utf-8")
        importer.choose_file(sample)
        wait(app, lambda: importer.busy is None and importer.plan is not None)
        importer.skip_invalid.setChecked(True)
        written.append(save(app, importer, outdir / "import.png"))
        importer.reject()
        window.close()
    finally:
        ops.shutdown(final=workspace.close)
    return written


__all__ = ["take"]
