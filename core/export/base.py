"""The pieces every exporter is made of: what it reads, the FHIR resources it makes, its CSV file.

An :class:`Exporter` reads the rows of one *source* (a sync entity of :data:`core.sync.ENTITIES`,
or :data:`AUDIT`, the audit trail) in wire form: a mapping with every data field of the entity
as it travels in sync (datetimes as ``...Z`` UTC text, dates as ``YYYY-MM-DD``, objects and
lists decoded) plus the bookkeeping ``id``, ``version``, ``deleted``, ``created_at`` and
``updated_at`` (UTC text). Both the desktop and the server hand rows in that shape to the same
exporters, so the two copies of a clinic export the same resources.

For each row the exporter makes zero or more FHIR R4 resources (plain dicts, ready for JSON) and
one CSV row. Mappings are pure functions of the row and the :class:`ExportContext` (the clinic,
and small lookup tables such as services by id). docs/export.md describes every mapping.

Rules every mapping follows, because FHIR refuses them: no empty strings, lists or objects;
codes without leading, trailing or doubled spaces; ids of at most 64 ``[A-Za-z0-9.-]``
characters; datetimes with a time zone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from core.export.jsonio import dumps_sorted
from core.money import exponent
from core.sync import ENTITIES, FieldType

#: The namespace of Glowdesk's own identifier systems, code systems and extensions. A name, not
#: an address anyone fetches (FHIR only needs it to be a stable absolute URI).
BASE: Final = "http://glowdesk.app/fhir"

#: The pseudo-source of the audit trail (the desktop's ``audit_log``, the server's
#: ``audit_entry``): rows with ``seq``, ``at``, ``staff_id``, ``device_id``, ``action``,
#: ``entity``, ``entity_id``, ``detail``, ``prev_hash`` and ``hash``.
AUDIT: Final = "audit"

Row = Mapping[str, Any]
Resource = dict[str, Any]
Origin = Literal["desktop", "server"]


def sid(name: str) -> str:
    """An identifier system of ours (``identifier.system``)."""
    return f"{BASE}/sid/{name}"


def code_system(name: str) -> str:
    return f"{BASE}/CodeSystem/{name}"


def extension_url(name: str) -> str:
    return f"{BASE}/StructureDefinition/{name}"


# --- the context ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportClinic:
    id: str
    slug: str
    name: str
    region: str = "US"
    currency: str = "USD"
    timezone: str = "America/Los_Angeles"


@dataclass
class ExportContext:
    """What a mapping may know beyond its row: the clinic, small lookup tables, references."""

    clinic: ExportClinic
    origin: Origin
    #: the first part of every AuditEvent id (``<prefix>.<seq>``): the workstation's device id on
    #: a desktop, the clinic id on the server (whose audit sequence is per clinic)
    audit_prefix: str = ""
    #: FHIR resource type of each source's own resource (``{"patient": "Patient", ...}``),
    #: for references to rows of other sources
    resource_of: Mapping[str, str] = field(default_factory=dict)
    #: reads every row of a source (the side's reader); used for small lookup tables only
    read: Callable[[str], Iterable[Row]] | None = None
    _tables: dict[str, dict[str, Row]] = field(default_factory=dict)

    def table(self, source: str) -> Mapping[str, Row]:
        """Every live row of a small source by id (services, staff...), read once."""
        found = self._tables.get(source)
        if found is None:
            rows = self.read(source) if self.read is not None else ()
            found = self._tables[source] = {r["id"]: r for r in rows if not r.get("deleted")}
        return found

    def reference(self, source: str, row_id: str) -> dict[str, Any]:
        """A Reference to the row ``row_id`` of ``source``: ``Patient/<id>`` when the source has
        a resource type, otherwise a logical reference by identifier."""
        resource_type = self.resource_of.get(source)
        if resource_type is not None:
            return {"reference": f"{resource_type}/{row_id}"}
        return {"identifier": {"system": sid(source.replace("_", "-")), "value": row_id}}

    def organization(self) -> dict[str, Any]:
        return {"reference": f"Organization/{self.clinic.id}", "display": self.clinic.name}


# --- exporters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvSpec:
    """One CSV file: its name (``patients`` -> ``csv/patients.csv``), header and row maker."""

    name: str
    columns: tuple[str, ...]
    values: Callable[[Row], list[Any]]


def is_live(row: Row) -> bool:
    return not row.get("deleted")


@dataclass(frozen=True)
class Exporter:
    """What one source of rows contributes to an export.

    ``resource_types`` lists every FHIR type ``to_fhir`` may return, the row's own first (the
    type other resources use to refer to this source's rows). An exporter without
    ``to_fhir`` writes CSV only. ``include`` picks the rows exported (default: not deleted).
    """

    source: str
    csv: CsvSpec
    resource_types: tuple[str, ...] = ()
    to_fhir: Callable[[Row, ExportContext], list[Resource]] | None = None
    include: Callable[[Row], bool] = is_live
    #: one line for docs and ``--help``: what these rows are
    about: str = ""

    def __post_init__(self) -> None:
        if bool(self.resource_types) != (self.to_fhir is not None):
            raise ValueError(f"exporter {self.source}: resource_types and to_fhir go together")


# --- CSV helpers ------------------------------------------------------------------------------

_FORMULA_START: Final = frozenset("=+-@\t\r")
_NUMBER_LIKE: Final = re.compile(r"[+-]?[0-9][0-9 ().-]*")


def csv_text(value: str | None) -> str | None:
    """Text safe to open in a spreadsheet: a cell a spreadsheet would run as a formula (it starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return and is not a number such as a
    phone number) gets a leading apostrophe, as OWASP recommends against CSV injection."""
    if value and value[0] in _FORMULA_START and not _NUMBER_LIKE.fullmatch(value):
        return "'" + value
    return value


def json_text(value: Any) -> str:
    """A JSON cell: compact, keys sorted."""
    return dumps_sorted(value)


def catalogue_csv(
    name: str,
    entity: str,
    *,
    exclude: Iterable[str] = (),
    extra_columns: tuple[str, ...] = (),
    extra: Callable[[Row], list[Any]] | None = None,
) -> CsvSpec:
    """A CSV file of every catalogue field of ``entity`` (but ``clinic_id`` and ``exclude``):
    ``id``, the fields in catalogue order, ``created_at``, ``updated_at``, then the
    ``extra_columns`` that ``extra(row)`` fills. Objects and lists are JSON text (keys sorted),
    booleans ``true``/``false``, nulls empty cells, text made safe for spreadsheets
    (:func:`csv_text`)."""
    skip = {"clinic_id", *exclude}
    fields = [spec for spec in ENTITIES[entity].fields.values() if spec.name not in skip]
    keys = ("id", *(f.name for f in fields), "created_at", "updated_at")
    text_at = tuple(i for i, f in enumerate(fields, 1) if f.type in (FieldType.STR, FieldType.TEXT))
    json_at = tuple(i for i, f in enumerate(fields, 1) if f.type in (FieldType.OBJECT, FieldType.LIST))
    bool_at = tuple(i for i, f in enumerate(fields, 1) if f.type is FieldType.BOOL)

    def values(row: Row) -> list[Any]:
        get = row.get
        out = [get(k) for k in keys]
        for i in text_at:
            v = out[i]
            if v and v[0] in _FORMULA_START:
                out[i] = csv_text(v)
        for i in json_at:
            v = out[i]
            out[i] = dumps_sorted(v) if v else None
        for i in bool_at:
            v = out[i]
            if v is not None:
                out[i] = "true" if v else "false"
        if extra is not None:
            out.extend(extra(row))
        return out

    return CsvSpec(name, (*keys, *extra_columns), values)


# --- FHIR helpers -----------------------------------------------------------------------------

#: FHIR's dateTime with a time (and so a zone), as FHIR's own regular expression restricts it
_DATETIME: Final = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,9})?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
_DATE: Final = re.compile(
    r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
)


def fhir_datetime(value: Any) -> str | None:
    """``value`` if it is a FHIR dateTime with time and zone, else None. Catalogue datetimes
    always are; this guards values nested in JSON objects (consent times, payloads)."""
    if isinstance(value, str) and _is_datetime(value):
        return value
    return None


@functools.lru_cache(maxsize=8192)
def _is_datetime(value: str) -> bool:
    # the same few times recur (a client's consents share the time of the form they signed)
    return _DATETIME.fullmatch(value) is not None


def fhir_date(value: Any) -> str | None:
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    return None


def text(value: Any) -> str | None:
    """A text value as a FHIR string: None when it is not text, empty or only white space (FHIR
    has no empty strings, and counts a no-break space alone as empty)."""
    if value and type(value) is str and not value.isspace():
        return value
    return None


def fhir_code(value: Any) -> str | None:
    """A text as a FHIR code (single spaces inside, none around); None when empty."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text or None


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str | None, text: str | None = None) -> dict[str, Any] | None:
    """A CodeableConcept of one of our codes (None when neither code nor text)."""
    out: dict[str, Any] = {}
    if code:
        out["coding"] = [{"system": system, "code": code}]
    if text:
        out["text"] = text
    return out or None


def extension(name: str, kind: str, value: Any) -> dict[str, Any]:
    """One of our extensions: ``extension("vip", "Boolean", True)``."""
    return {"url": extension_url(name), f"value{kind}": value}


def money(minor: int, currency: str) -> dict[str, Any]:
    """A FHIR Money from integer minor units (``1999, "USD"`` -> 19.99 USD)."""
    exp = exponent(currency)
    return {"value": minor / 10**exp if exp else minor, "currency": currency}


def meta(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if row.get("version"):
        out["versionId"] = str(row["version"])
    updated = row.get("updated_at")
    if updated:
        out["lastUpdated"] = updated
    return out


def start(resource_type: str, row: Row) -> Resource:
    """A resource's opening: type, the row's id and its meta."""
    res: Resource = {"resourceType": resource_type, "id": row["id"]}
    m = meta(row)
    if m:
        res["meta"] = m
    return res


__all__ = [
    "AUDIT",
    "BASE",
    "CsvSpec",
    "ExportClinic",
    "ExportContext",
    "Exporter",
    "Origin",
    "Resource",
    "Row",
    "catalogue_csv",
    "code_system",
    "coding",
    "concept",
    "csv_text",
    "extension",
    "extension_url",
    "fhir_code",
    "fhir_date",
    "fhir_datetime",
    "is_live",
    "json_text",
    "meta",
    "money",
    "sid",
    "start",
    "text",
]
