"""Import a clinic's client list exported from another system (CSV).

The first thing a switching clinic does. Two steps, both keyword-only:

* :func:`plan_import` — the dry run. Reads the file (encoding and delimiter detected), maps its
  columns by header (with the aliases of the common exports: Aesthetic Record, Boulevard, Zenoti,
  Mindbody, Vagaro, spreadsheets), normalises phones in the clinic's region and emails, checks
  dates of birth, and finds duplicates within the file and against the clinic's live patients.
  Writes nothing. Returns an :class:`ImportPlan` whose :class:`ImportReport` names every problem
  row by its physical line number in the file (the header is line 1 when it is the first line).
* :func:`run_import` — creates the patients in ONE transaction (outbox, search index and audit
  included). If any row has an error nothing is imported (:class:`ImportRejectedError`) unless the
  caller passes ``skip_invalid=True``. A cancel (:class:`ImportCancelledError`) or any failure
  midway (a full disk included) rolls everything back.

Duplicates are never merged: they are skipped and reported with the line or the existing client
they match. Logs carry counts and line numbers only, never patient data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from app.db.models import Patient
from app.db.store import Store
from app.db.types import iso_utc
from app.repositories import audit
from app.repositories import patients as repo
from app.repositories.context import Actor, Ctx
from app.repositories.uow import system_actor, unit_of_work
from app.services.patients import FieldErrors, validate
from core import dedup
from core.errors import GlowdeskError, ValidationError
from core.permissions import Permission, require
from core.phone import try_normalize_phone

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
ShouldCancel = Callable[[], bool]

#: The ``source`` recorded on consents that come from an imported file.
CONSENT_SOURCE = "csv import"
#: Audit ``via`` of every imported patient.
AUDIT_REASON = "csv import"
#: A client list bigger than this is not a client list.
MAX_FILE_BYTES = 200 * 1024 * 1024
#: How many leading records may precede the header row (report titles of some exports).
MAX_PREAMBLE_RECORDS = 10
DEFAULT_PROGRESS_EVERY = 250

IGNORE = "ignore"

#: Every field a column can be mapped to, with the label a UI shows for it.
FIELDS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name (split into first and last)",
    "preferred_name": "Preferred name / nickname",
    "mobile_phone": "Mobile phone",
    "phone": "Phone",
    "home_phone": "Home phone",
    "work_phone": "Work phone",
    "email": "Email",
    "date_of_birth": "Date of birth",
    "instagram_handle": "Instagram handle",
    "address_line1": "Address",
    "address_line2": "Address line 2",
    "city": "City",
    "state": "State / province",
    "postal_code": "ZIP / postal code",
    "country": "Country",
    "allergies": "Allergies",
    "medical_alerts": "Medical alerts",
    "notes": "Notes",
    "tags": "Tags",
    "vip": "VIP",
    "sms_marketing_opt_in": "Marketing texts: opted in",
    "email_marketing_opt_in": "Marketing email: opted in",
    "sms_opt_out": "Texts: opted out",
    "email_opt_out": "Email: opted out",
    "external_ref": "Client ID in the old system",
    "sex": "Sex / gender",
    "pronouns": "Pronouns",
    IGNORE: "Do not import",
}

#: Several columns may feed these (their values are joined); any other field takes one column.
_MULTI_COLUMN = frozenset({"allergies", "medical_alerts", "notes", "tags"})
#: When several phone columns exist, the first usable one in this order becomes the phone.
_PHONE_PRIORITY = ("mobile_phone", "phone", "home_phone", "work_phone")
_NAME_FIELDS = frozenset({"first_name", "last_name", "full_name"})

_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("firstname", "first", "givenname", "given", "fname", "forename", "firstnames",
                   "namefirst"),
    "last_name": ("lastname", "last", "surname", "familyname", "lname", "namelast"),
    "full_name": ("name", "fullname", "clientname", "customername", "patientname", "contactname",
                  "displayname", "guestname", "membername"),
    "preferred_name": ("preferredname", "nickname", "nick", "goesby", "knownas",
                       "preferredfirstname"),
    "mobile_phone": ("mobile", "cell", "mobilephone", "cellphone", "cellnumber", "mobilenumber",
                     "mobileno", "cellular", "cellularphone", "smsnumber", "textnumber",
                     "mobiletelephone", "mobilephonenumber", "cellphonenumber", "mobiletel"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "telephonenumber", "phoneno",
              "contactnumber", "primaryphone", "mainphone", "phone1"),
    "home_phone": ("homephone", "home", "hometelephone", "homenumber", "homephonenumber",
                   "landline", "eveningphone", "phone2"),
    "work_phone": ("workphone", "work", "businessphone", "officephone", "worknumber", "dayphone",
                   "daytimephone", "workphonenumber"),
    "email": ("email", "emailaddress", "mail", "emailaddr", "primaryemail", "emailid"),
    "date_of_birth": ("dob", "birthday", "birthdate", "dateofbirth", "bday", "birthdt",
                      "dateborn"),
    "instagram_handle": ("instagram", "ighandle", "instagramhandle", "ig", "instagramusername",
                         "instagramname", "insta", "igusername", "instagramaccount"),
    "address_line1": ("address", "address1", "addressline1", "street", "streetaddress", "street1",
                      "addressstreet", "mailingaddress", "homeaddress", "streetline1"),
    "address_line2": ("address2", "addressline2", "street2", "apt", "suite", "unit", "aptsuite",
                      "streetline2"),
    "city": ("city", "town", "suburb", "locality", "addresscity"),
    "state": ("state", "province", "stateprovince", "region", "addressstate", "st"),
    "postal_code": ("zip", "zipcode", "postcode", "postalcode", "zippostalcode", "postal",
                    "addresszip", "addresspostalcode"),
    "country": ("country", "countrycode", "addresscountry"),
    "allergies": ("allergies", "allergy", "knownallergies", "drugallergies", "allergyinfo"),
    "medical_alerts": ("medicalalerts", "medicalalert", "alerts", "alert", "medicalnotes",
                       "medicalconditions", "medicalhistory", "healthnotes", "conditions",
                       "contraindications", "medicalinfo", "healthconditions"),
    "notes": ("notes", "note", "comments", "comment", "clientnotes", "generalnotes", "remarks"),
    "tags": ("tags", "tag", "labels", "label", "clienttags", "customertags"),
    "vip": ("vip", "isvip", "vipclient", "vipstatus"),
    "sms_marketing_opt_in": ("smsoptin", "smsmarketing", "textmarketing", "marketingsms",
                             "smsmarketingoptin", "acceptssmsmarketing", "textoptin", "smsconsent",
                             "marketingtextmessages", "allowsms", "smssubscribed", "marketingtexts",
                             "textmessagemarketing", "smsmarketingconsent", "optinsms",
                             "receivemarketingsms", "marketingsmsoptin", "smsmarketingoptedin"),
    "email_marketing_opt_in": ("emailoptin", "emailmarketing", "marketingemail", "marketingemails",
                               "acceptsemailmarketing", "emailsubscribed", "emailconsent",
                               "allowemail", "newsletter", "emailmarketingoptin",
                               "emailmarketingconsent", "optinemail", "marketingemailoptin",
                               "emailmarketingoptedin"),
    "sms_opt_out": ("smsoptout", "textoptout", "smsunsubscribed", "unsubscribedsms",
                    "smsoptedout"),
    "email_opt_out": ("emailoptout", "emailunsubscribed", "unsubscribedemail", "unsubscribed",
                      "emailoptedout"),
    "external_ref": ("clientid", "customerid", "patientid", "id", "externalid", "clientnumber",
                     "recordid", "guestid", "memberid", "accountnumber", "clientno", "chartnumber",
                     "customernumber", "patientnumber"),
    "sex": ("gender", "sex"),
    "pronouns": ("pronouns", "pronoun", "preferredpronouns"),
}
_ALIAS_INDEX: dict[str, str] = {alias: f for f, aliases in _ALIASES.items() for alias in aliases}
#: Words some exports put in front of every heading ("Client First Name", "Patient Email").
_HEADER_PREFIXES = ("client", "customer", "patient", "guest", "contact", "member", "primary")

_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_MONTH_FIRST_REGIONS = frozenset({"US", "CA", "PH", "PR", "GU", "VI", "AS", "MP", "UM", "FM",
                                  "MH", "PW"})
_MONTHS = {m.lower(): i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_TRUE = frozenset({"yes", "y", "true", "t", "1", "x", "on", "checked", "vip", "optedin", "optin",
                   "subscribed", "granted", "✓", "✔", "☑"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "off", "unchecked", "-", "none", "optedout",
                    "optout", "unsubscribed", "notsubscribed", "declined"})

_ISO_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}.*)?$")
_NUM_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?:[ T]\d{1,2}:\d{2}.*)?$")
_TEXT_DATE_MDY = re.compile(r"^([A-Za-z]{3,9})\.?[ -](\d{1,2})(?:st|nd|rd|th)?,?[ -](\d{2}|\d{4})$")
_TEXT_DATE_DMY = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[ -]([A-Za-z]{3,9})\.?,?[ -](\d{2}|\d{4})$")
_YEARLESS = re.compile(r"^(?:\d{1,2}[-/.]\d{1,2}|--\d{2}-\d{2}|[A-Za-z]{3,9}\.? \d{1,2}|\d{1,2} [A-Za-z]{3,9})$")
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)
_SEP_LINE = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)

_FIELD_LENGTHS: dict[str, int] = {
    name: int(length)
    for name in ("first_name", "last_name", "preferred_name", "email", "external_ref", "sex",
                 "pronouns", "instagram_handle")
    if (length := getattr(Patient.__table__.c[name].type, "length", None))
}


# --- errors ---------------------------------------------------------------------------------------


class ImportFileError(ValidationError):
    """The file cannot be read as a client list; ``user_message`` says why and what to do."""

    code = "import_file"

    def __init__(self, user_message: str, *, headers: Sequence[str] = ()) -> None:
        super().__init__(user_message)
        #: the headings found, for display (never logged: a header-less file's first row is data)
        self.headers = tuple(headers)


class ImportMappingError(ValidationError):
    """An explicit column mapping names a column the file lacks or a field that does not exist."""

    code = "import_mapping"


class ImportRejectedError(ValidationError):
    """Rows have errors and ``skip_invalid`` was not chosen: nothing was imported."""

    code = "import_rejected"

    def __init__(self, report: ImportReport) -> None:
        rows = "row has a problem" if report.errors == 1 else "rows have problems"
        super().__init__(
            f"{report.errors:,} {rows}, so nothing was imported. Fix them in the file and import "
            "again, or choose to import the good rows and skip the rest."
        )
        self.report = report


class ImportCancelledError(GlowdeskError):
    code = "import_cancelled"

    def __init__(self) -> None:
        super().__init__("The import was cancelled. Nothing was imported.")


# --- the report -----------------------------------------------------------------------------------

IssueKind = Literal["error", "duplicate", "warning"]


@dataclass(frozen=True)
class RowIssue:
    """One problem with one row. ``message`` is a sentence for the front desk (it may quote the
    row's values: show it, never log it)."""

    line: int
    kind: IssueKind
    message: str
    column: str | None = None
    #: for duplicates: the earlier line of this file, or the existing patient, that it matches
    matches_line: int | None = None
    matches_patient_id: str | None = None

    def describe(self) -> str:
        label = {"error": "error", "duplicate": "skipped", "warning": "note"}[self.kind]
        return f"line {self.line}: {label}: {self.message}"


@dataclass
class ImportReport:
    file_name: str
    file_sha256: str
    encoding: str
    delimiter: str
    header_line: int
    #: CSV heading → field, for every column that is imported
    mapping: dict[str, str]
    #: headings that match no known field (their values are not imported)
    unknown_columns: list[str]
    #: headings deliberately not imported (mapped to "ignore", or a second column for a field)
    ignored_columns: list[str]
    total_rows: int = 0
    blank_rows: int = 0
    to_create: int = 0
    duplicates: int = 0
    errors: int = 0
    warnings: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    dry_run: bool = True
    #: set by :func:`run_import` once the transaction committed
    imported: bool = False
    created: int = 0
    skipped_invalid: int = 0

    @property
    def ok(self) -> bool:
        """No row has an error (duplicates and notes do not count)."""
        return self.errors == 0

    def problems(self) -> list[RowIssue]:
        return sorted(self.issues, key=lambda i: (i.line, i.kind != "error"))

    def problem_lines(self) -> list[str]:
        return [issue.describe() for issue in self.problems()]

    def summary(self) -> str:
        """Counts in a sentence, then the headings of unrecognised columns (no row data)."""
        if self.imported:
            head = f"Imported {self.created:,} new client{'s' if self.created != 1 else ''}"
        else:
            head = f"{self.total_rows:,} client row{'s' if self.total_rows != 1 else ''} read: " \
                   f"{self.to_create:,} to import"
        parts = [head, f"{self.duplicates:,} duplicate{'s' if self.duplicates != 1 else ''} skipped"]
        if self.imported:
            if self.skipped_invalid:
                parts.append(f"{self.skipped_invalid:,} row{'s' if self.skipped_invalid != 1 else ''}"
                             " with problems skipped")
        else:
            parts.append(f"{self.errors:,} row{'s' if self.errors != 1 else ''} with problems")
        text = ", ".join(parts) + "."
        if self.unknown_columns:
            n = len(self.unknown_columns)
            text += (f" {n} unrecognised column{'s' if n != 1 else ''} not imported: "
                     + ", ".join(self.unknown_columns) + ".")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "file_sha256": self.file_sha256,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "header_line": self.header_line,
            "mapping": dict(self.mapping),
            "unknown_columns": list(self.unknown_columns),
            "ignored_columns": list(self.ignored_columns),
            "total_rows": self.total_rows,
            "blank_rows": self.blank_rows,
            "to_create": self.to_create,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "warnings": self.warnings,
            "dry_run": self.dry_run,
            "imported": self.imported,
            "created": self.created,
            "skipped_invalid": self.skipped_invalid,
            "issues": [
                {"line": i.line, "kind": i.kind, "message": i.message, "column": i.column,
                 "matches_line": i.matches_line, "matches_patient_id": i.matches_patient_id}
                for i in self.problems()
            ],
        }

    def _recount(self) -> None:
        self.errors = len({i.line for i in self.issues if i.kind == "error"})
        self.duplicates = sum(1 for i in self.issues if i.kind == "duplicate")
        self.warnings = sum(1 for i in self.issues if i.kind == "warning")


@dataclass(frozen=True)
class PlannedRow:
    """A valid row ready to become a patient: its line and the validated patient fields."""

    line: int
    fields: dict[str, Any]


@dataclass
class ImportPlan:
    """The result of the dry run: what would be created, and the report."""

    clinic_id: str
    region: str
    report: ImportReport
    #: valid, non-duplicate rows in file order
    rows: list[PlannedRow]
    planned_at: datetime


# --- reading the file -----------------------------------------------------------------------------


def _not_csv(what: str) -> ImportFileError:
    return ImportFileError(
        f"This file is {what}, not a CSV file. Export the client list from your old system as "
        "CSV (in Excel or Numbers: File > Save As / Export > CSV) and import that file."
    )


def _sniff_binary(data: bytes) -> None:
    """Refuse files that are clearly something else, with a reason a person understands."""
    head = data[:16]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        names: list[str] = []
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = zf.namelist()[:200]
        except (zipfile.BadZipFile, OSError, ValueError):
            pass
        if any(n.startswith("xl/") for n in names):
            raise _not_csv("an Excel workbook (.xlsx)")
        if any(n.startswith("word/") for n in names):
            raise _not_csv("a Word document")
        if "content.xml" in names or any(n.startswith("Index/") for n in names):
            raise _not_csv("a spreadsheet document (OpenDocument or Numbers)")
        raise _not_csv("a ZIP archive")
    signatures: tuple[tuple[bytes, str], ...] = (
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) or Word file"),
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"{\\rtf", "a rich-text (RTF) document"),
        (b"\x1f\x8b", "a compressed (gzip) file"),
        (b"SQLite format 3\x00", "a database file"),
    )
    for magic, what in signatures:
        if head.startswith(magic):
            raise _not_csv(what)
    start = data[:512].lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table")):
        raise _not_csv("a web page (HTML)")
    if start.startswith(b"<?xml"):
        raise _not_csv("an XML file")


def _decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (BOM or not), UTF-16 (Excel's "Unicode text"), cp1252, latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise ImportFileError("The file says it is UTF-16 text but cannot be read as such. "
                                  "Export it again as CSV (UTF-8).") from None
    sample = data[:8192]
    if b"\x00" in sample:
        # UTF-16 without a byte order mark: every other byte of ASCII text is zero
        even, odd = sample[0::2], sample[1::2]
        for zeros, codec in ((odd, "utf-16-le"), (even, "utf-16-be")):
            if zeros and zeros.count(0) > 0.9 * len(zeros):
                try:
                    return data.decode(codec), codec
                except UnicodeDecodeError:
                    break
        raise _not_csv("a binary file (not text)")
    for codec in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return text, ("utf-8" if codec == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf")
                      else "utf-8 (with BOM)" if codec == "utf-8-sig" else codec)
    return data.decode("latin-1"), "latin-1"


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    if not sample:
        return False
    control = sum(1 for ch in sample if ch not in "\t\r\n\f" and unicodedata.category(ch) == "Cc")
    return control > max(2, len(sample) // 100)


def normalize_header(header: str) -> str:
    """The key a heading is matched on: no accents, case, spaces, punctuation or "(hints)"."""
    text = re.sub(r"\(.*?\)|\[.*?\]", "", header)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text.casefold() if ch.isalnum() and not unicodedata.combining(ch))


def field_for_header(header: str) -> str | None:
    """The field a heading maps to by alias, or None when it is not recognised."""
    key = normalize_header(header)
    if not key:
        return None
    if key in _ALIAS_INDEX:
        return _ALIAS_INDEX[key]
    for prefix in _HEADER_PREFIXES:
        if key.startswith(prefix) and key[len(prefix):] in _ALIAS_INDEX:
            return _ALIAS_INDEX[key[len(prefix):]]
    return None


def detect_mapping(headers: Sequence[str]) -> dict[str, str | None]:
    """{heading: field or None} by alias, for a UI to show and let staff correct."""
    return {h: field_for_header(h) for h in headers}


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    field: str


@dataclass
class _Layout:
    columns: list[_Column]
    mapping: dict[str, str]
    unknown: list[str]
    ignored: list[str]

    def has_name(self) -> bool:
        return any(c.field in _NAME_FIELDS for c in self.columns)


def _layout(headers: Sequence[str], explicit: Mapping[str, str | None] | None) -> _Layout:
    explicit_by_key: dict[str, str | None] = {}
    if explicit:
        present = {h.strip() for h in headers} | {normalize_header(h) for h in headers}
        for name, chosen in explicit.items():
            if chosen is not None and chosen not in FIELDS:
                raise ImportMappingError(f"'{chosen}' is not a field Glowdesk can import into.")
            if name.strip() not in present and normalize_header(name) not in present:
                raise ImportMappingError(f"The file has no column called '{name}'.")
            explicit_by_key[name.strip()] = chosen
            explicit_by_key.setdefault(normalize_header(name), chosen)
    columns: list[_Column] = []
    unknown: list[str] = []
    ignored: list[str] = []
    taken: set[str] = set()
    # explicit choices first, so an alias match never takes a field the caller assigned
    order = sorted(range(len(headers)),
                   key=lambda i: 0 if (headers[i].strip() in explicit_by_key
                                       or normalize_header(headers[i]) in explicit_by_key) else 1)
    for i in order:
        header = headers[i].strip()
        if not header:
            continue
        target: str | None
        if header in explicit_by_key:
            target = explicit_by_key[header]
        elif normalize_header(header) in explicit_by_key:
            target = explicit_by_key[normalize_header(header)]
        else:
            target = field_for_header(header)
            if target is None:
                unknown.append(header)
                continue
        if target is None or target == IGNORE:
            ignored.append(header)
            continue
        if target in taken and target not in _MULTI_COLUMN:
            ignored.append(header)
            continue
        taken.add(target)
        columns.append(_Column(i, header, target))
    columns.sort(key=lambda c: c.index)
    unknown.sort(key=lambda h: [x.strip() for x in headers].index(h))
    ignored.sort(key=lambda h: [x.strip() for x in headers].index(h))
    return _Layout(columns, {c.header: c.field for c in columns}, unknown, ignored)


@dataclass(frozen=True)
class _Record:
    line: int  # first physical line of the record
    end_line: int
    cells: list[str]
    problem: str | None = None


def _records(text: str, delimiter: str, *, start_line: int = 1) -> Iterator[_Record]:
    """Every record with its physical line numbers (quoted newlines span several lines).

    Parsed strictly, so a quotation mark that is never closed is caught; a row whose only fault
    is a stray character after a closing quote (``"Lee" ,``) is re-read leniently, as a
    spreadsheet would.
    """
    lines = list(io.StringIO(text, newline=""))
    options: dict[str, Any] = {"delimiter": delimiter, "quotechar": '"', "doublequote": True,
                               "skipinitialspace": True}
    reader = csv.reader(iter(lines), strict=True, **options)
    offset = start_line - 1
    prev = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = prev + 1 + offset
            end = reader.line_num + offset
            reason = str(exc)
            if "end of data" in reason:
                problem = (f"A quotation mark opened on line {line} is never closed, so lines "
                           f"{line}–{end} could not be read as rows.")
            elif "field limit" in reason or "larger than" in reason:
                problem = ("A value here is far too long; usually a quotation mark that is never "
                           "closed.")
            else:
                try:
                    lenient = list(csv.reader(lines[prev:reader.line_num], strict=False, **options))
                except csv.Error:
                    lenient = []
                if len(lenient) == 1:
                    yield _Record(line, end, lenient[0])
                    prev = reader.line_num
                    continue
                problem = ("A quotation mark is misplaced in this row (a quoted value must be "
                           "followed by the separator).")
            yield _Record(line, end, [], problem)
            prev = reader.line_num
            continue
        yield _Record(prev + 1 + offset, reader.line_num + offset, cells)
        prev = reader.line_num


def _sample(text: str, limit: int = 65536) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut if cut > 0 else limit]


def _find_header(text: str, delimiter: str, explicit: Mapping[str, str | None] | None,
                 start_line: int) -> tuple[_Record, _Layout] | None:
    seen = 0
    for record in _records(_sample(text), delimiter, start_line=start_line):
        if record.problem or not any(c.strip() for c in record.cells):
            continue
        try:
            layout = _layout(record.cells, explicit)
        except ImportMappingError:
            layout = None
        if layout is not None and layout.has_name():
            return record, layout
        seen += 1
        if seen >= MAX_PREAMBLE_RECORDS:
            return None
    return None


def _choose_dialect(text: str, explicit: Mapping[str, str | None] | None, start_line: int,
                    forced: str | None) -> tuple[str, _Record, _Layout]:
    sample = _sample(text)
    sniffed: str | None = forced
    if sniffed is None:
        try:
            sniffed = csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter
        except csv.Error:
            sniffed = None
    candidates = [d for d in ([sniffed] if sniffed else []) + list(_DELIMITERS) if d]
    if forced:
        candidates = [forced]
    best: tuple[tuple[int, int, int], str, _Record, _Layout] | None = None
    for delim in dict.fromkeys(candidates):
        found = _find_header(text, delim, explicit, start_line)
        if found is None:
            continue
        record, layout = found
        score = (len(layout.columns), -record.line, 1 if delim == sniffed else 0)
        if best is None or score > best[0]:
            best = (score, delim, record, layout)
    if best is None:
        headers: list[str] = []
        first = next((r for r in _records(sample, sniffed or ",", start_line=start_line)
                      if r.cells and any(c.strip() for c in r.cells)), None)
        if first is not None:
            headers = [c.strip() for c in first.cells]
        if explicit:
            # surface the caller's mistake in its own words
            _layout(headers, explicit)
        raise ImportFileError(
            "No column with the clients' names was found. The first line of the file should "
            "hold the column headings (for example: First Name, Last Name, Mobile, Email), and "
            "one of them must be the name.",
            headers=headers,
        )
    _, delim, record, layout = best
    return delim, record, layout


# --- turning a row into patient fields ------------------------------------------------------------


def _cell(value: str) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    match = _EXCEL_TEXT.match(text)  # ="00123": Excel's way of keeping leading zeros
    if match:
        text = match.group(1).strip()
    return text


def _year(text: str, today: date) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000
        if year > today.year:
            year -= 100
    return year


def parse_birth_date(text: str, *, region: str, today: date) -> date:
    """Read a date of birth as exports write it; day/month order follows the clinic's region
    (month first in the US), except when only one order makes a real date."""
    value = text.strip()
    month_first = region.upper() in _MONTH_FIRST_REGIONS
    try:
        if m := _ISO_DATE.match(value):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _NUM_DATE.match(value):
            a, b, year = int(m.group(1)), int(m.group(2)), _year(m.group(3), today)
            month, day = (a, b) if month_first else (b, a)
            if month > 12 and day <= 12:
                month, day = day, month
            return date(year, month, day)
        if m := _TEXT_DATE_MDY.match(value):
            named = _MONTHS.get(m.group(1)[:3].lower())
            if named is not None:
                return date(_year(m.group(3), today), named, int(m.group(2)))
        if m := _TEXT_DATE_DMY.match(value):
            named = _MONTHS.get(m.group(2)[:3].lower())
            if named is not None:
                return date(_year(m.group(3), today), named, int(m.group(1)))
    except ValueError:
        raise ValidationError(f"'{text}' is not a real date.", field="date_of_birth") from None
    if _YEARLESS.match(value):
        raise ValidationError(f"'{text}' has no year, so it cannot be stored as a date of birth.",
                              field="date_of_birth")
    example = "MM/DD/YYYY" if month_first else "DD/MM/YYYY"
    raise ValidationError(f"'{text}' is not a date Glowdesk can read (use YYYY-MM-DD or {example}).",
                          field="date_of_birth")


def _flag(text: str) -> bool:
    key = re.sub(r"[\s_\-]", "", text.casefold()) or text
    if key in _TRUE or text in _TRUE:
        return True
    if key in _FALSE or text in _FALSE:
        return False
    raise ValidationError(f"'{text}' is not yes or no.")


def _split_full_name(full: str, last: str) -> tuple[str, str]:
    """(first, last) from one name cell: "Last, First" or "First Middle Last"."""
    full = " ".join(full.split())
    if last:
        if full.casefold().endswith(" " + last.casefold()):
            return full[: -len(last) - 1].strip(), last
        return full, last
    if "," in full:
        before, _, after = full.partition(",")
        return " ".join(after.split()), " ".join(before.split())
    parts = full.split(" ", 1)
    return parts[0], (parts[1] if len(parts) > 1 else "")


_ERROR_WORDING = {
    "first_name": "This row has no first or last name.",
}


@dataclass
class _RowResult:
    fields: dict[str, Any] | None
    errors: list[RowIssue]
    warnings: list[RowIssue]


class _RowReader:
    def __init__(self, layout: _Layout, header_width: int, *, region: str, today: date,
                 imported_at: datetime) -> None:
        self.layout = layout
        self.header_width = header_width
        self.region = region
        self.today = today
        self.imported_at = iso_utc(imported_at)
        self.by_field: dict[str, list[_Column]] = {}
        for col in layout.columns:
            self.by_field.setdefault(col.field, []).append(col)

    def _get(self, cells: list[str], name: str) -> tuple[str, str | None]:
        """(value, heading) of the first column of ``name`` with a value."""
        for col in self.by_field.get(name, ()):
            if col.index < len(cells):
                value = _cell(cells[col.index])
                if value:
                    return value, col.header
        return "", None

    def _joined(self, cells: list[str], name: str, sep: str = "\n") -> str:
        values = [_cell(cells[c.index]) for c in self.by_field.get(name, ()) if c.index < len(cells)]
        return sep.join(v for v in values if v)

    def read(self, record: _Record) -> _RowResult:
        line = record.line
        cells = record.cells
        errors: list[RowIssue] = []
        warnings: list[RowIssue] = []

        def err(message: str, column: str | None = None) -> None:
            errors.append(RowIssue(line, "error", message, column))

        extra = [c for c in cells[self.header_width:] if c.strip()]
        if extra:
            err(f"This row has {len(cells)} values but the heading line has {self.header_width} "
                "columns; a value probably contains the separator without quotation marks.")
            return _RowResult(None, errors, warnings)

        first, _ = self._get(cells, "first_name")
        last, _ = self._get(cells, "last_name")
        full, _ = self._get(cells, "full_name")
        if full and not first:
            first, split_last = _split_full_name(full, last)
            last = last or split_last
        data: dict[str, Any] = {"first_name": first, "last_name": last}
        columns: dict[str, str | None] = {}
        for name in ("preferred_name", "sex", "pronouns", "external_ref"):
            value, header = self._get(cells, name)
            if value:
                data[name] = value
                columns[name] = header
        for name in ("allergies", "medical_alerts", "notes"):
            value = self._joined(cells, name)
            if value:
                data[name] = value

        # phone: the first usable column, mobile first
        phone_cols = [(v, h) for v, h in (self._get(cells, f) for f in _PHONE_PRIORITY) if v]
        if phone_cols:
            chosen = next((p for p in phone_cols if _valid_phone(p[0], self.region)), None)
            if chosen is None:
                data["phone"], columns["phone"] = phone_cols[0]
            else:
                data["phone"], columns["phone"] = chosen
                skipped = phone_cols[: phone_cols.index(chosen)]
                for value, header in skipped:
                    warnings.append(RowIssue(
                        line, "warning",
                        f"{header}: '{value}' is not a valid phone number; used {chosen[1]} instead.",
                        header))
        email, columns["email"] = self._get(cells, "email")
        if email:
            data["email"] = email
        handle, columns["instagram_handle"] = self._get(cells, "instagram_handle")
        if handle:
            data["instagram_handle"] = handle

        dob_text, dob_header = self._get(cells, "date_of_birth")
        if dob_text:
            try:
                data["date_of_birth"] = parse_birth_date(dob_text, region=self.region, today=self.today)
            except ValidationError as exc:
                err(f"{dob_header}: {exc.user_message}", dob_header)
            columns["date_of_birth"] = dob_header

        address: dict[str, str] = {}
        for part in ("address_line1", "address_line2", "city", "state", "postal_code", "country"):
            value, _ = self._get(cells, part)
            if value:
                address["line1" if part == "address_line1" else
                        "line2" if part == "address_line2" else part] = value
        data["address"] = address

        tags: list[str] = []
        for col in self.by_field.get("tags", ()):
            if col.index < len(cells):
                tags.extend(t for t in re.split(r"[;,]", _cell(cells[col.index])) if t.strip())
        data["tags"] = tags

        vip_text, vip_header = self._get(cells, "vip")
        data["vip"] = False
        if vip_text:
            try:
                data["vip"] = _flag(vip_text)
            except ValidationError as exc:
                err(f"{vip_header}: {exc.user_message}", vip_header)

        consents: dict[str, Any] = {}
        for name, purpose, invert in (("sms_marketing_opt_in", "marketing_sms", False),
                                      ("sms_opt_out", "marketing_sms", True),
                                      ("email_marketing_opt_in", "email", False),
                                      ("email_opt_out", "email", True)):
            text, header = self._get(cells, name)
            if not text:
                continue
            try:
                flag = _flag(text)
            except ValidationError as exc:
                err(f"{header}: {exc.user_message}", header)
                continue
            granted = (not flag) if invert else flag
            if purpose in consents and consents[purpose]["granted"] != granted:
                err(f"{header}: says the opposite of another consent column for the same channel.",
                    header)
                continue
            consents[purpose] = {"granted": granted, "at": self.imported_at, "source": CONSENT_SOURCE}
        data["consents"] = consents

        try:
            fields = validate(data, region=self.region, today=self.today)
        except FieldErrors as exc:
            for name, message in exc.errors.items():
                header = columns.get(name)
                text = _ERROR_WORDING.get(name, message)
                err(f"{header}: {text}" if header else text, header)
            fields = None
        if fields is not None:
            for name, limit in _FIELD_LENGTHS.items():
                stored = fields.get(name)
                if isinstance(stored, str) and len(stored) > limit:
                    header = columns.get(name)
                    label = header or FIELDS.get(name, name)
                    err(f"{label}: is longer than {limit} characters.", header)
        if errors:
            order = {c.header: c.index for c in self.layout.columns}
            errors.sort(key=lambda i: order.get(i.column or "", -1))
            return _RowResult(None, errors, warnings)
        return _RowResult(fields, errors, warnings)


def _valid_phone(raw: str, region: str) -> bool:
    return try_normalize_phone(raw, region) is not None


# --- planning -------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImportFileError(
                f"The file is too large ({size // (1024 * 1024)} MB) to be a client list. "
                "Check that you chose the right file.")
        return path.read_bytes()
    except IsADirectoryError:
        raise ImportFileError("That is a folder, not a file. Choose the exported CSV file.") from None
    except FileNotFoundError:
        raise ImportFileError("The file could not be found. It may have been moved or renamed; "
                              "choose it again.") from None
    except PermissionError:
        raise ImportFileError("Glowdesk is not allowed to read that file. Copy it somewhere you "
                              "can open it (for example your Documents folder) and try again.") from None
    except OSError:
        raise ImportFileError("The file could not be read. Copy it to this computer and try "
                              "again.") from None


def _check_cancel(should_cancel: ShouldCancel | None) -> None:
    if should_cancel is not None and should_cancel():
        raise ImportCancelledError()


def plan_import(
    store: Store,
    path: str | Path,
    *,
    clinic_id: str,
    region: str,
    mapping: Mapping[str, str | None] | None = None,
    should_cancel: ShouldCancel | None = None,
) -> ImportPlan:
    """The dry run: read, map, normalise and check every row; find duplicates. Writes nothing.

    ``mapping`` ({CSV heading: field or None/"ignore"}) overrides the automatic mapping for the
    columns it names; other columns are still mapped by alias.
    Raises :class:`ImportFileError` when the file is not a readable client list.
    """
    path = Path(path)
    data = _read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise ImportFileError("The file is empty: it has no column headings and no clients. "
                              "Export the client list again and choose the new file.")
    _sniff_binary(data)
    text, encoding = _decode(data)
    if _looks_binary(text):
        raise _not_csv("a binary file (not text)")
    forced: str | None = None
    start_line = 1
    first_line, newline, rest = text.partition("\n")
    sep = _SEP_LINE.match(first_line.rstrip("\r"))
    if sep and newline:
        forced, text, start_line = sep.group(1), rest, 2
    delimiter, header, layout = _choose_dialect(text, mapping, start_line, forced)

    now = store.clock.now()
    today = now.date()
    reader = _RowReader(layout, len(header.cells), region=region, today=today, imported_at=now)
    report = ImportReport(
        file_name=path.name,
        file_sha256=digest,
        encoding=encoding,
        delimiter=_DELIMITERS.get(delimiter, repr(delimiter)),
        header_line=header.line,
        mapping=dict(layout.mapping),
        unknown_columns=list(layout.unknown),
        ignored_columns=list(layout.ignored),
    )
    candidates: list[PlannedRow] = []
    for n, record in enumerate(_records(text, delimiter, start_line=start_line)):
        if n % 500 == 0:
            _check_cancel(should_cancel)
        if record.line <= header.line:
            continue
        if record.problem:
            report.total_rows += 1
            report.issues.append(RowIssue(record.line, "error", record.problem))
            continue
        if not any(c.strip() for c in record.cells):
            report.blank_rows += 1
            continue
        report.total_rows += 1
        result = reader.read(record)
        report.issues.extend(result.errors)
        report.issues.extend(result.warnings)
        if result.fields is not None:
            candidates.append(PlannedRow(record.line, result.fields))

    _check_cancel(should_cancel)
    with unit_of_work(store, system_actor(store)) as ctx:
        rows = _deduplicate(ctx, candidates, report)
    report.to_create = len(rows)
    report._recount()
    log.info("csv import planned: rows=%d to_create=%d duplicates=%d errors=%d blank=%d "
             "unknown_columns=%d encoding=%s delimiter=%s", report.total_rows, report.to_create,
             report.duplicates, report.errors, report.blank_rows, len(report.unknown_columns),
             report.encoding, report.delimiter)
    return ImportPlan(clinic_id=clinic_id, region=region.upper(), report=report, rows=rows,
                      planned_at=now)


#: how a duplicate's report names the detail it shares (core.dedup's keys)
_SHARED = {"phone": "phone number", "email": "email address", "instagram": "Instagram account",
           "name_and_birthday": "name and date of birth", "same_name": "name"}


def _deduplicate(ctx: Ctx, candidates: list[PlannedRow], report: ImportReport) -> list[PlannedRow]:
    """Drop rows that are surely a live patient or an earlier row of the file, by the one rule
    (:func:`core.dedup.decide`: phone, email, Instagram, name and date of birth); report each with
    what it matches. Never merges. A row that is only possibly the same person (the same name,
    not enough else in common to be sure) is imported with a note naming the other record."""
    new = [(row, dedup.identity_of(row.fields)) for row in candidates]
    existing = repo.identity_candidates(
        ctx, phones=[i.phone for _, i in new if i.phone], email_keys=[i.email_key for _, i in new if i.email_key],
        instagram_ids=[i.instagram_id for _, i in new if i.instagram_id],
        handles=[i.instagram_handle for _, i in new if i.instagram_handle],
        last_names=[str(row.fields.get("last_name") or "") for row, i in new if i.named])
    in_store: dedup.Index[str] = dedup.Index((pid, dedup.identity_of(r)) for pid, r in existing.items())
    names = {pid: f"{r['first_name']} {r['last_name']}".strip() for pid, r in existing.items()}
    # every earlier row, skipped or not, is one later rows are compared with (a row sharing
    # anything with a duplicate is the same person)
    in_file: dedup.Index[int] = dedup.Index()
    skipped: dict[int, str] = {}  # line → why it was skipped ("existing" or "duplicate")
    keep: list[PlannedRow] = []

    def in_file_text(what: str, earlier: int) -> str:
        why = skipped.get(earlier)
        if why == "existing":
            return (f"Same {what} as line {earlier} of this file, which is already a client in "
                    "Glowdesk. Not imported.")
        if why == "duplicate":
            return (f"Same {what} as line {earlier} of this file, which was skipped as a "
                    "duplicate. Not imported.")
        return f"Same {what} as line {earlier} of this file. Only the first one (line {earlier}) is imported."

    for row, ident in new:
        stored, earlier = in_store.decide(ident), in_file.decide(ident)
        in_file.add(row.line, ident)
        issue: RowIssue | None = None
        if stored is not None and stored.verdict.sure:
            pid = stored.candidate
            issue = RowIssue(row.line, "duplicate",
                             f"Same {_SHARED[stored.verdict.key]} as {names.get(pid) or 'a client'}, who is already "
                             "in Glowdesk. Not imported (update that client by hand if needed).",
                             matches_patient_id=pid)
        elif earlier is not None and earlier.verdict.sure:
            issue = RowIssue(row.line, "duplicate", in_file_text(_SHARED[earlier.verdict.key], earlier.candidate),
                             matches_line=earlier.candidate)
        if issue is not None:
            skipped[row.line] = "existing" if issue.matches_patient_id else "duplicate"
            report.issues.append(issue)
            continue
        if stored is not None:
            report.issues.append(RowIssue(
                row.line, "warning", f"Same name as {names.get(stored.candidate) or 'a client'}, who is already in "
                "Glowdesk, but not enough else in common to be sure: imported; check whether they are the "
                "same person.", matches_patient_id=stored.candidate))
        elif earlier is not None:
            report.issues.append(RowIssue(
                row.line, "warning", f"Same name as line {earlier.candidate} of this file, but not enough else in "
                "common to be sure: both imported; check whether they are the same person.",
                matches_line=earlier.candidate))
        keep.append(row)
    report._recount()
    return keep


# --- importing ------------------------------------------------------------------------------------


def run_import(
    store: Store,
    plan_or_path: ImportPlan | str | Path,
    *,
    actor: Actor,
    clinic_id: str,
    region: str,
    progress: Progress | None = None,
    should_cancel: ShouldCancel | None = None,
    skip_invalid: bool = False,
    mapping: Mapping[str, str | None] | None = None,
    progress_every: int = DEFAULT_PROGRESS_EVERY,
) -> ImportReport:
    """Create the planned patients in one transaction and return the report.

    Raises :class:`ImportRejectedError` (nothing written) when rows have errors and
    ``skip_invalid`` is False, :class:`ImportCancelledError` (everything rolled back) when
    ``should_cancel()`` turns true, and store errors (e.g. ``DiskFullError``) after rolling back.
    Duplicates are re-checked against the store inside the transaction, so a plan made earlier
    never creates a second copy of a client added in the meantime.
    """
    if actor.role:
        require(actor.role, Permission.PATIENT_IMPORT)
    if isinstance(plan_or_path, ImportPlan):
        plan = plan_or_path
        if plan.clinic_id != clinic_id or plan.region != region.upper():
            raise ValueError("the import plan was made for another clinic or region")
        if mapping is not None:
            raise ValueError("pass the mapping to plan_import, not with a ready plan")
    else:
        plan = plan_import(store, plan_or_path, clinic_id=clinic_id, region=region, mapping=mapping,
                           should_cancel=should_cancel)
    report = plan.report
    if report.imported:
        raise ValidationError("This file was already imported. Choose the file again to import it "
                              "a second time (duplicates will be skipped).")
    if report.errors and not skip_invalid:
        log.info("csv import rejected: %d rows with errors", report.errors)
        raise ImportRejectedError(report)
    every = max(1, progress_every)
    total = 0
    try:
        with unit_of_work(store, actor) as ctx:
            rows = _deduplicate(ctx, plan.rows, report)
            total = len(rows)
            report.to_create = total
            if progress is not None:
                progress(0, total)

            def patients() -> Iterator[Patient]:
                for done, row in enumerate(rows, start=1):
                    _check_cancel(should_cancel)
                    patient = Patient(clinic_id=clinic_id, **row.fields)
                    patient.first_touch = {}
                    yield patient
                    if progress is not None and (done % every == 0 or done == total):
                        progress(done, total)

            created = repo.create_many(ctx, patients(), reason=AUDIT_REASON)
            _check_cancel(should_cancel)
            audit.append(ctx, "patient.import", "patient", None, {
                "created": created,
                "duplicates": report.duplicates,
                "skipped_invalid": report.errors,
                "rows": report.total_rows,
                "file_sha256": report.file_sha256,
            })
    except ImportCancelledError:
        log.info("csv import cancelled; rolled back")
        raise
    except Exception as exc:
        log.warning("csv import failed (%s); rolled back", type(exc).__name__)
        raise
    report.dry_run = False
    report.imported = True
    report.created = created
    report.skipped_invalid = report.errors
    log.info("csv import done: created=%d duplicates=%d skipped_invalid=%d", created,
             report.duplicates, report.skipped_invalid)
    return report
