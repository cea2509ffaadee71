"""A clinic exported from its server and from a workstation synced with it: the same records give
the same FHIR resources and the same CSV rows, because both sides hand the shared mapping the
same wire rows. Only the audit trails differ (each side exports its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.services.export import export_data
from app.services.staff import sign_in
from app.services.workspace import open_workspace
from tests.fhir_check import check_export, read_csv

from .conftest import ClinicSetup, ServerProcess


def by_id(item: dict[str, Any]) -> str:
    return str(item.get("id") or item.get("seq"))


def test_the_server_and_a_synced_workstation_export_the_same_records(
        server: ServerProcess, desks: Any, tmp_path: Path) -> None:
    seeded = server.cli("demo", "--patients", "60", "--slug", "both-sides", "--seed", "11")
    code = server.cli("enrollment-code", "--clinic", "both-sides")["code"]
    setup = ClinicSetup(slug="both-sides", clinic_id=seeded["clinic_id"], owner_id="", provider_id="", codes=[code])
    (desk,) = desks(server, setup, "front")

    server.cli("export", "--clinic", "both-sides", "--out", str(tmp_path / "server"), "--staff", "Olivia Owens",
               "--pin", "1234")
    owner = sign_in(desk.store, name="Olivia Owens", pin="1234")
    ws = open_workspace(desk.home)
    try:
        export_data(desk.store, actor=owner, clinic=ws.require_clinic(), out=tmp_path / "desk")
    finally:
        ws.close()

    server_manifest, on_server = check_export(tmp_path / "server")
    desk_manifest, on_desk = check_export(tmp_path / "desk")
    assert server_manifest["source"] == "server" and desk_manifest["source"] == "desktop"
    shared = set(on_server) - {"AuditEvent"}
    assert shared == set(on_desk) - {"AuditEvent"}
    assert {"Patient", "Appointment", "Communication", "Basic", "Provenance"} <= shared
    for resource_type in sorted(shared):  # the desktop lists rows in storage order, the server by id
        assert sorted(on_desk[resource_type], key=by_id) == on_server[resource_type], resource_type
    for entry in server_manifest["csv"]:
        if entry["name"] == "audit":
            continue
        # created_at: a workstation writes the clinic and staff rows it is enrolled with itself
        desk_rows, server_rows = (
            [{k: v for k, v in row.items() if k != "created_at"} for row in read_csv(tmp_path / side / entry["url"])]
            for side in ("desk", "server"))
        assert sorted(desk_rows, key=by_id) == sorted(server_rows, key=by_id), entry["name"]
