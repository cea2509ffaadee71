"""Data export v1: the clinic's own data as FHIR R4 NDJSON (Bulk Data layout), CSV files and a
manifest with counts and SHA-256 checksums. Shared by the desktop (``python -m app export``) and
the server (``python -m sync_server export``); each side reads its own store in wire form and
hands the rows to the same exporters. docs/export.md is the mapping.

- :mod:`core.export.base`: what an exporter is, and the helpers mappings share;
- :mod:`core.export.kinds`: the registry (:data:`EXPORTERS`), one module per kind of record;
- :mod:`core.export.writer`: the folder, the files and the manifest.
"""

from core.export.base import AUDIT, ExportClinic, ExportContext, Exporter, Row
from core.export.kinds import EXPORTERS
from core.export.writer import (
    FHIR_VERSION,
    FORMAT_VERSION,
    ExportFolderNotEmpty,
    ExportFolderUnusable,
    Manifest,
    read_manifest,
    write_export,
)

__all__ = [
    "AUDIT",
    "EXPORTERS",
    "ExportClinic",
    "ExportContext",
    "ExportFolderNotEmpty",
    "ExportFolderUnusable",
    "Exporter",
    "FHIR_VERSION",
    "FORMAT_VERSION",
    "Manifest",
    "Row",
    "read_manifest",
    "write_export",
]
