"""Writing an export folder: FHIR NDJSON (Bulk Data layout), CSV files and the manifest.

::

    DIR/
      manifest.json            written last: its presence means the export is complete
      Patient.ndjson           one resource per line, one file per resource type
      Appointment.ndjson ...
      csv/patients.csv         one file per exporter, a header row then one row per record
      csv/appointments.csv ...

The folder must be new or empty. It is created readable by its owner only (0700) and every file
0600: it holds the clinic's patient data in clear, and nothing is written anywhere else (no
temporary files). If the export fails, the files it wrote are removed again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

from core.errors import GlowdeskError
from core.export.base import ExportClinic, ExportContext, Exporter, Origin, Row
from core.export.jsonio import dumps
from core.export.kinds import EXPORTERS

#: Version of this folder's layout and of the mappings in docs/export.md: bump it when a file,
#: a column or a mapping changes meaning (adding resource types or columns does not).
FORMAT_VERSION: Final = 1
#: FHIR release the resources follow (they are also valid R4B, which the tests check).
FHIR_VERSION: Final = "4.0.1"
MANIFEST: Final = "manifest.json"
CSV_DIR: Final = "csv"
_FLUSH_EVERY: Final = 2048
_BUFFER: Final = 1 << 20


class ExportFolderNotEmpty(GlowdeskError):
    code = "export_folder_not_empty"
    status = 409

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"The folder {path} is not empty. Export into a new or empty folder, so that an export "
            "is never mixed with other files."
        )


class ExportFolderUnusable(GlowdeskError):
    code = "export_folder_unusable"
    status = 400


@dataclass(frozen=True)
class FileEntry:
    """One file of the export, as the manifest lists it."""

    url: str  # path relative to the export folder
    count: int
    sha256: str
    bytes: int
    type: str | None = None  # FHIR resource type (NDJSON files)
    name: str | None = None  # exporter name (CSV files)


@dataclass
class Manifest:
    source: Origin
    clinic: ExportClinic
    exported_at: datetime
    request: str
    output: list[FileEntry] = field(default_factory=list)
    csv: list[FileEntry] = field(default_factory=list)
    exported_by: Mapping[str, Any] | None = None

    @property
    def counts(self) -> dict[str, int]:
        """Resources per FHIR type."""
        return {f.type: f.count for f in self.output if f.type}

    @property
    def resources(self) -> int:
        return sum(f.count for f in self.output)

    @property
    def csv_rows(self) -> dict[str, int]:
        return {f.name: f.count for f in self.csv if f.name}

    def as_dict(self) -> dict[str, Any]:
        when = self.exported_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        out: dict[str, Any] = {
            "format": "glowdesk-export",
            "format_version": FORMAT_VERSION,
            "source": self.source,
            "clinic": {"id": self.clinic.id, "slug": self.clinic.slug, "name": self.clinic.name},
            "exported_at": when,
            # the FHIR Bulk Data manifest's own fields
            "transactionTime": when,
            "request": self.request,
            "requiresAccessToken": False,
            "fhir_version": FHIR_VERSION,
            "output": [
                {"type": f.type, "url": f.url, "count": f.count, "sha256": f.sha256, "bytes": f.bytes}
                for f in self.output
            ],
            "error": [],
            "csv": [
                {"name": f.name, "url": f.url, "rows": f.count, "sha256": f.sha256, "bytes": f.bytes}
                for f in self.csv
            ],
            "counts": self.counts,
            "resources": self.resources,
        }
        if self.exported_by:
            out["exported_by"] = dict(self.exported_by)
        return out


# --- the folder -------------------------------------------------------------------------------


def prepare_folder(out: Path) -> bool:
    """Make sure ``out`` is a new or empty folder, owner-only; True when this call created it."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise ExportFolderUnusable(f"{out} is a file, not a folder; choose a folder for the export.")
        if any(out.iterdir()):
            raise ExportFolderNotEmpty(out)
        os.chmod(out, stat.S_IRWXU)
        return False
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.mkdir(mode=stat.S_IRWXU)
    except OSError as exc:
        raise ExportFolderUnusable(f"The folder {out} cannot be created ({exc.strerror or exc}).") from None
    os.chmod(out, stat.S_IRWXU)  # whatever the umask
    return True


def _create(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return open(fd, "wb", buffering=_BUFFER)  # noqa: SIM115 - closed by the writer


def sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_BUFFER):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class _Ndjson:
    """One resource type's file, written in batches."""

    def __init__(self, out: Path, resource_type: str) -> None:
        self.url = f"{resource_type}.ndjson"
        self.path = out / self.url
        self.file = _create(self.path)
        #: serialised at once: holding thousands of resource dicts would make every garbage
        #: collection walk them (measured: 1.7x the CPU time of the whole export)
        self.pending: list[bytes] = []
        self.count = 0

    def flush(self) -> None:
        if self.pending:
            self.count += len(self.pending)
            self.file.write(b"\n".join(self.pending) + b"\n")
            self.pending = []

    def close(self) -> None:
        self.flush()
        self.file.close()


# --- the export -------------------------------------------------------------------------------


def write_export(
    out: Path,
    *,
    read: Callable[[str], Iterable[Row]],
    clinic: ExportClinic,
    origin: Origin,
    exported_at: datetime,
    request: str,
    audit_prefix: str,
    exported_by: Mapping[str, Any] | None = None,
    exporters: tuple[Exporter, ...] = EXPORTERS,
    created_folder: bool | None = None,
) -> Manifest:
    """Write every exporter's rows (``read(source)`` yields them in wire form) into ``out``.

    The caller reads from one consistent snapshot of its store and has already audited the
    export. ``created_folder``: the caller already ran :func:`prepare_folder` (which said
    whether it created the folder, so that a failed export removes it again); None: prepare it
    here. Returns the manifest (also written to ``out/manifest.json``).
    """
    out = Path(out)
    if created_folder is None:
        created_folder = prepare_folder(out)
    written: list[Path] = []
    ndjson: dict[str, _Ndjson] = {}
    manifest = Manifest(origin, clinic, exported_at, request, exported_by=exported_by)
    ctx = ExportContext(
        clinic=clinic,
        origin=origin,
        audit_prefix=audit_prefix,
        read=read,
        resource_of={e.source: e.resource_types[0] for e in exporters if e.resource_types},
    )
    try:
        (out / CSV_DIR).mkdir(mode=stat.S_IRWXU)
        csv_counts: list[tuple[str, Path, int]] = []
        for exporter in exporters:
            path = out / CSV_DIR / f"{exporter.csv.name}.csv"
            binary = _create(path)
            written.append(path)
            with io.TextIOWrapper(binary, encoding="utf-8", newline="") as text:
                rows = _write_rows(exporter, read, ctx, csv.writer(text), ndjson, out, written)
            csv_counts.append((exporter.csv.name, path, rows))
        for sink in ndjson.values():
            sink.close()
        for resource_type, sink in ndjson.items():
            digest, size = sha256_of(sink.path)
            manifest.output.append(FileEntry(sink.url, sink.count, digest, size, type=resource_type))
        for name, path, rows in csv_counts:
            digest, size = sha256_of(path)
            manifest.csv.append(FileEntry(f"{CSV_DIR}/{path.name}", rows, digest, size, name=name))
        path = out / MANIFEST
        with _create(path) as fh:
            written.append(path)
            fh.write(dumps(manifest.as_dict()) + b"\n")
    except BaseException:
        for sink in ndjson.values():
            sink.file.close()
        _remove(out, written, created_folder)
        raise
    return manifest


def _write_rows(
    exporter: Exporter,
    read: Callable[[str], Iterable[Row]],
    ctx: ExportContext,
    writer: Any,
    ndjson: dict[str, _Ndjson],
    out: Path,
    written: list[Path],
) -> int:
    writer.writerow(exporter.csv.columns)
    writerow = writer.writerow
    values = exporter.csv.values
    include = exporter.include
    to_fhir = exporter.to_fhir
    rows = 0
    for row in read(exporter.source):
        if not include(row):
            continue
        rows += 1
        writerow(values(row))
        if to_fhir is None:
            continue
        for resource in to_fhir(row, ctx):
            sink = ndjson.get(resource["resourceType"])
            if sink is None:
                sink = ndjson[resource["resourceType"]] = _Ndjson(out, resource["resourceType"])
                written.append(sink.path)
            pending = sink.pending
            pending.append(dumps(resource))
            if len(pending) >= _FLUSH_EVERY:
                sink.flush()
    return rows


def _remove(out: Path, written: list[Path], created_folder: bool) -> None:
    for path in written:
        path.unlink(missing_ok=True)
    for folder in (out / CSV_DIR, out) if created_folder else (out / CSV_DIR,):
        try:
            folder.rmdir()
        except OSError:
            pass


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of an export folder (for checks and tests)."""
    import json

    data: dict[str, Any] = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    return data


__all__ = [
    "CSV_DIR",
    "ExportFolderNotEmpty",
    "ExportFolderUnusable",
    "FHIR_VERSION",
    "FORMAT_VERSION",
    "FileEntry",
    "MANIFEST",
    "Manifest",
    "prepare_folder",
    "read_manifest",
    "sha256_of",
    "write_export",
]
