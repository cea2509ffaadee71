"""The registry: every exporter, in the order the export writes them.

A feature that adds records adds one module here (its mapping and CSV) and one line to
:data:`EXPORTERS`; docs/export.md says how.
"""

from __future__ import annotations

from core.export.base import Exporter
from core.export.kinds import (
    activity,
    appointment,
    audit,
    clinic,
    device,
    lead,
    location,
    message,
    patient,
    records,
    service,
    staff,
)

EXPORTERS: tuple[Exporter, ...] = (
    clinic.EXPORTER,
    location.EXPORTER,
    location.ROOMS,
    device.EXPORTER,
    staff.EXPORTER,
    service.EXPORTER,
    patient.EXPORTER,
    lead.EXPORTER,
    appointment.EXPORTER,
    message.EXPORTER,
    activity.EXPORTER,
    records.TEMPLATES,
    records.READ_RECEIPTS,
    records.MERGE_REVIEWS,
    audit.EXPORTER,
)

__all__ = ["EXPORTERS"]
