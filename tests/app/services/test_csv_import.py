"""CSV import of a client list: real SQLCipher stores, real files on disk."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select

from app.db.errors import DiskFullError
from app.db.models import AuditEntry, OutboxEntry, Patient
from app.db.store import Store, open_store
from app.repositories import audit
from app.repositories import patients as repo
from app.repositories.context import Actor
from app.repositories.uow import unit_of_work
from app.services import csv_import as ci
from app.services.patients import PatientService
from core.clock import FixedClock
from core.errors import PermissionDenied, ValidationError

DATA = Path(__file__).parent / "data"
CLINIC = "clinic-0001"
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "home", clock=FixedClock(NOW))
    yield s
    s.close()


@pytest.fixture
def owner(store: Store) -> Actor:
    return Actor(staff_id="staff-owner", device_id=store.device_id, role="owner", name="Owner")


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode(encoding))
    else:
        path.write_bytes(content)
    return path


def plan(store: Store, path: Path, **kw: object) -> ci.ImportPlan:
    return ci.plan_import(store, path, clinic_id=CLINIC, region=str(kw.pop("region", "US")), **kw)  # type: ignore[arg-type]


def run(store: Store, src: ci.ImportPlan | Path, actor: Actor, **kw: object) -> ci.ImportReport:
    return ci.run_import(store, src, actor=actor, clinic_id=CLINIC, region="US", **kw)  # type: ignore[arg-type]


def counts(store: Store) -> tuple[int, int, int]:
    """(patients, outbox entries, audit entries)."""
    with store.session() as s:
        return (
            s.execute(select(sa.func.count()).select_from(Patient)).scalar_one(),
            s.execute(select(sa.func.count()).select_from(OutboxEntry)).scalar_one(),
            s.execute(select(sa.func.count()).select_from(AuditEntry)).scalar_one(),
        )


def patients_by_ref(store: Store) -> dict[str, Patient]:
    with store.session() as s:
        rows = s.execute(select(Patient)).scalars().all()
        for r in rows:
            s.expunge(r)
    return {p.external_ref or p.id: p for p in rows}


def lines(report: ci.ImportReport, kind: str) -> list[int]:
    return sorted({i.line for i in report.issues if i.kind == kind})


def generated_csv(n: int, *, start: int = 0) -> str:
    first = ["Ana", "Zoë", "José", "Lan", "Søren", "Guðrún", "Mia", "Chloé", "Ava", "Noor"]
    last = ["García", "Ñúñez", "Nguyễn", "Smith", "Ólafsdóttir", "O'Brien", "Kowalski", "Lee"]
    out = ["First Name,Last Name,Mobile,Email,DOB,Tags,SMS Opt In"]
    for i in range(start, start + n):
        phone = f"(415) {300 + i // 10000:03d}-{i % 10000:04d}" if i % 2 else f"415{300 + i // 10000:03d}{i % 10000:04d}"
        out.append(
            f"{first[i % len(first)]},{last[i % len(last)]},{phone},client{i}@example.com,"
            f"{1 + i % 12}/{1 + i % 28}/{1950 + i % 50},\"Botox, Filler\",{'yes' if i % 3 else 'no'}"
        )
    return "\n".join(out) + "\n"


# --- good files -------------------------------------------------------------------------------


def test_non_ascii_names_round_trip_exactly_and_are_searchable(store: Store, owner: Actor) -> None:
    path = DATA / "clients_non_ascii.csv"
    p = plan(store, path)
    assert p.report.ok and p.report.to_create == 5 and p.report.total_rows == 5
    assert p.report.encoding == "utf-8 (with BOM)"
    assert p.report.delimiter == "comma"
    assert p.report.unknown_columns == ["Last Visit", "Total Spent"]

    report = run(store, p, owner)
    assert report.imported and report.created == 5 and not report.dry_run

    got = patients_by_ref(store)
    expected = {
        "AR-1001": ("José", "Ñúñez", "Pepe"),
        "AR-1002": ("Zoë", "Brontë-Smith", None),
        "AR-1003": ("Thị Lan", "Nguyễn", "Lan"),
        "AR-1004": ("Søren", "Kierkegaard", None),
        "AR-1005": ("Guðrún", "Ólafsdóttir", "Gunna"),
    }
    for ref, (first, last, preferred) in expected.items():
        assert (got[ref].first_name, got[ref].last_name, got[ref].preferred_name) == (first, last, preferred)
        assert got[ref].clinic_id == CLINIC

    jose = got["AR-1001"]
    assert jose.phone == "+14155550101"
    assert jose.email == "jose.nunez@example.com"
    assert jose.date_of_birth == date(1985, 3, 14)
    assert jose.instagram_handle == "jose.nunez"
    assert jose.address == {"line1": "12 Calle Mayor, Apt 3", "city": "San Francisco", "state": "CA",
                            "postal_code": "94110"}
    assert jose.allergies == "Penicillin"
    assert jose.tags == ["Botox", "Filler"]
    assert jose.vip is True
    assert jose.consents == {
        "marketing_sms": {"granted": True, "at": "2026-11-22T15:00:00.000000Z", "source": "csv import"},
        "email": {"granted": False, "at": "2026-11-22T15:00:00.000000Z", "source": "csv import"},
    }
    assert got["AR-1002"].email == "zoe@example.com"
    assert got["AR-1003"].medical_alerts == "Keloid scarring, on Accutane until 2026"
    assert got["AR-1003"].tags == ["Filler", "VIP"] and got["AR-1003"].vip is True
    assert got["AR-1004"].date_of_birth == date(1969, 1, 5)

    with unit_of_work(store, owner) as ctx:
        def ids(text: str) -> set[str]:
            return {h.id for h in repo.search(ctx, text)}

        assert ids("Ñúñez") == {jose.id}
        assert ids("nunez") == {jose.id}  # diacritics-insensitive
        assert ids("Nguyễn") == {got["AR-1003"].id}
        assert ids("Olafsdottir") == {got["AR-1005"].id}
        assert ids("Zoë") == {got["AR-1002"].id}
        assert ids("Søren") == {got["AR-1004"].id}
        assert ids("555-0101") == {jose.id}


def test_imported_patients_have_outbox_and_hash_chained_audit(store: Store, owner: Actor) -> None:
    run(store, DATA / "clients_non_ascii.csv", owner)
    n_patients, n_outbox, _ = counts(store)
    assert n_patients == 5 and n_outbox == 5
    with store.session() as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action).order_by(AuditEntry.seq))]
        assert actions == ["patient.create"] * 5 + ["patient.import"]
        summary = s.execute(select(AuditEntry).where(AuditEntry.action == "patient.import")).scalar_one()
        assert summary.detail["created"] == 5 and summary.staff_id == "staff-owner"
        assert audit.verify(s).ok
        ops = {e.op for e in s.execute(select(OutboxEntry)).scalars()}
        assert ops == {"insert"}


def test_aliases_semicolon_and_cp1252(store: Store, owner: Actor) -> None:
    p = plan(store, DATA / "mindbody_semicolon_cp1252.csv")
    r = p.report
    assert (r.encoding, r.delimiter) == ("cp1252", "semicolon")
    assert r.mapping == {
        "Client Name": "full_name", "Cell": "mobile_phone", "E-mail": "email", "Birthday": "date_of_birth",
        "IG handle": "instagram_handle", "Labels": "tags", "VIP Client": "vip",
        "SMS Opt-In": "sms_marketing_opt_in", "Email Opt Out": "email_opt_out",
        "Customer ID": "external_ref", "Notes": "notes",
    }
    assert r.unknown_columns == ["Referral Source"]
    assert r.ok and r.to_create == 3

    run(store, p, owner)
    got = patients_by_ref(store)
    gudrun, soren, zoe = got["MB-1"], got["MB-2"], got["MB-3"]
    assert (gudrun.first_name, gudrun.last_name) == ("Guðrún", "Ólafsdóttir")  # "Last, First"
    assert (soren.first_name, soren.last_name) == ("Søren", "Kierkegaard")
    assert (zoe.first_name, zoe.last_name) == ("Zoë", "Dupré")
    assert gudrun.date_of_birth == date(1985, 3, 14)  # 14/03: only day-first makes a date
    assert zoe.date_of_birth == date(1992, 1, 2)  # US clinic: month first
    assert gudrun.instagram_handle == "gunna" and gudrun.vip is True
    assert gudrun.tags == ["Botox", "Filler"]
    assert gudrun.consents["marketing_sms"]["granted"] is True
    assert gudrun.consents["email"]["granted"] is True  # "Email Opt Out: No"
    assert soren.consents["email"] == {"granted": False, "at": "2026-11-22T15:00:00.000000Z",
                                       "source": "csv import"}
    assert soren.notes == "Café au lait spots – check"  # the en dash only exists in cp1252
    assert zoe.notes == "« Très » nervous" and zoe.consents == {}


@pytest.mark.parametrize(
    "header",
    [
        "first name,SURNAME,Mobile Phone,e-mail address,Birth Date",
        "First_Name,Family name,Cell Phone,Email,D.O.B.",
        "Given name,Last,Telephone,E-Mail,birthday",
        "fname,lname,Phone Number,Email Address,Date of Birth (MM/DD/YYYY)",
        "Client First Name,Client Last Name,Client Mobile,Client Email,Client DOB",
    ],
)
def test_header_aliases(tmp_path: Path, store: Store, header: str) -> None:
    path = write(tmp_path, "c.csv", f"{header}\nAna,García,415 555 0177,ana@example.com,02/03/1990\n")
    p = plan(store, path)
    assert p.report.ok and not p.report.unknown_columns, p.report.to_dict()
    assert sorted(p.report.mapping.values()) == sorted(
        ["first_name", "last_name", p.report.mapping[header.split(",")[2]], "email", "date_of_birth"])
    row = p.rows[0].fields
    assert (row["first_name"], row["last_name"], row["phone"], row["email"], row["date_of_birth"]) == (
        "Ana", "García", "+14155550177", "ana@example.com", date(1990, 2, 3))


def test_full_name_column_is_split(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "c.csv", 'Full Name,Phone\nMaria José García López,4155550170\n'
                                    '"Kierkegaard, Søren",4155550171\nCher,4155550172\n')
    rows = [(r.fields["first_name"], r.fields["last_name"]) for r in plan(store, path).rows]
    assert rows == [("Maria", "José García López"), ("Søren", "Kierkegaard"), ("Cher", "")]


def test_several_phone_columns_prefer_mobile(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "c.csv",
                 "First Name,Last Name,Home Phone,Phone,Mobile,Work Phone\n"
                 "Ana,One,415 555 0101,415 555 0102,415 555 0103,415 555 0104\n"
                 "Ana,Two,415 555 0111,415 555 0112,,415 555 0114\n"
                 "Ana,Three,415 555 0121,,12,\n"
                 "Ana,Four,,,,415 555 0134\n")
    p = plan(store, path)
    assert [r.fields["phone"] for r in p.rows] == ["+14155550103", "+14155550112", "+14155550121",
                                                   "+14155550134"]
    (warning,) = [i for i in p.report.issues if i.kind == "warning"]
    assert warning.line == 4 and warning.column == "Mobile" and "used Home Phone instead" in warning.message
    assert p.report.ok


def test_explicit_mapping_overrides_aliases(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "c.csv", "Col A,Col B,Contact,Email,Junk\nAna,García,415 555 0150,a@example.com,x\n")
    p = plan(store, path, mapping={"Col A": "first_name", "Col B": "last_name", "Contact": "mobile_phone",
                                   "Email": "ignore", "Junk": None})
    assert p.report.mapping == {"Col A": "first_name", "Col B": "last_name", "Contact": "mobile_phone"}
    assert p.report.ignored_columns == ["Email", "Junk"] and p.report.unknown_columns == []
    assert p.rows[0].fields["phone"] == "+14155550150" and "email" not in p.rows[0].fields

    with pytest.raises(ci.ImportMappingError, match="not a field"):
        plan(store, path, mapping={"Col A": "shoe_size"})
    with pytest.raises(ci.ImportMappingError, match="no column called 'Nope'"):
        plan(store, path, mapping={"Nope": "first_name"})


def test_detect_mapping_for_a_ui() -> None:
    assert ci.detect_mapping(["First Name", "Mobile", "Favourite colour"]) == {
        "First Name": "first_name", "Mobile": "mobile_phone", "Favourite colour": None}
    assert set(ci.FIELDS) >= {"first_name", "email", "tags", "ignore"}


def test_preamble_lines_and_excel_sep_hint(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "c.csv", "Client List Report\nGenerated 2026-11-01\n\n"
                                    "First Name,Last Name,Email\nAna,Lee,x@\nBo,Li,bo@example.com\n")
    p = plan(store, path)
    assert p.report.header_line == 4
    assert lines(p.report, "error") == [5] and [r.line for r in p.rows] == [6]

    path = write(tmp_path, "d.csv", "sep=;\nFirst Name;Last Name;Email\nAna;Lee, Jr.;x@\nBo;Li;bo@example.com\n")
    p = plan(store, path)
    assert p.report.delimiter == "semicolon" and p.report.header_line == 2
    assert lines(p.report, "error") == [3]


def test_tab_delimited_utf16_from_excel_unicode_text(tmp_path: Path, store: Store) -> None:
    text = "First Name\tLast Name\tMobile\r\nZoë\tNguyễn\t415 555 0190\r\n"
    path = write(tmp_path, "c.txt", text, encoding="utf-16")
    p = plan(store, path)
    assert (p.report.encoding, p.report.delimiter) == ("utf-16", "tab")
    assert (p.rows[0].fields["first_name"], p.rows[0].fields["last_name"]) == ("Zoë", "Nguyễn")


def test_latin1_fallback_for_bytes_cp1252_does_not_define(tmp_path: Path, store: Store) -> None:
    # 0x81 is undefined in cp1252: only latin-1 reads the file
    path = write(tmp_path, "c.csv", b"First Name,Last Name\nJos\xe9,A\x81\n")
    p = plan(store, path)
    assert p.report.encoding == "latin-1" and p.rows[0].fields["first_name"] == "José"


def test_excel_text_formula_and_nfc(tmp_path: Path, store: Store) -> None:
    decomposed = "Zoe\u0308"  # macOS exports may write decomposed accents
    path = write(tmp_path, "c.csv", f'First Name,Last Name,Mobile\n{decomposed},Lee,"=""4155550160"""\n')
    row = plan(store, path).rows[0].fields
    assert row["first_name"] == "Zoë" and row["phone"] == "+14155550160"


# --- duplicates -------------------------------------------------------------------------------


def test_duplicates_within_the_file_and_against_existing_patients(
    tmp_path: Path, store: Store, owner: Actor
) -> None:
    service = PatientService(store, clinic_id=CLINIC, region="US")
    existing = service.create(actor=owner, data={"first_name": "Maria", "last_name": "López",
                                                 "phone": "415-555-0140", "email": "maria.lopez@gmail.com"})
    gone = service.create(actor=owner, data={"first_name": "Old", "last_name": "Client",
                                             "phone": "415-555-0149"})
    with unit_of_work(store, owner) as ctx:
        repo.delete(ctx, repo.get_for_write(ctx, gone.id))  # type: ignore[arg-type]
    before = counts(store)

    path = write(tmp_path, "c.csv",
                 "First Name,Last Name,Mobile,Email\n"
                 "Maria,Lopez,(415) 555-0140,\n"                     # 2: existing, by phone
                 "M,L,,Maria.Lopez+botox@googlemail.com\n"           # 3: existing, by gmail match key
                 "Ana,Lee,415 555 0141,ana@example.com\n"            # 4: new
                 "Ana,Lee,+1 415 555 0141,other@example.com\n"       # 5: same phone as line 4
                 "Anna,Lee,415 555 0142,ANA@example.com\n"           # 6: same email as line 4
                 "New,Person,415 555 0149,\n"                        # 7: a deleted client's phone: new
                 "Bo,Li,,\n")                                        # 8: nothing to match on: new
    p = plan(store, path)
    r = p.report
    dups = {i.line: i for i in r.issues if i.kind == "duplicate"}
    assert sorted(dups) == [2, 3, 5, 6]
    assert dups[2].matches_patient_id == existing.id and "Maria López" in dups[2].message
    assert "phone" in dups[2].message
    assert dups[3].matches_patient_id == existing.id and "email" in dups[3].message
    assert dups[5].matches_line == 4 and "line 4" in dups[5].message
    assert dups[6].matches_line == 4 and "email" in dups[6].message
    assert (r.to_create, r.duplicates, r.errors) == (3, 4, 0)
    assert [row.line for row in p.rows] == [4, 7, 8]

    report = run(store, p, owner)
    assert report.created == 3 and report.duplicates == 4 and lines(report, "duplicate") == [2, 3, 5, 6]
    assert counts(store)[0] == before[0] + 3
    with store.session() as s:
        maria = s.get(Patient, existing.id)
        assert maria is not None and maria.version == 1  # never merged or touched


def test_plan_is_rechecked_for_duplicates_at_import(tmp_path: Path, store: Store, owner: Actor) -> None:
    path = write(tmp_path, "c.csv", "First Name,Last Name,Mobile\nAna,Lee,415 555 0161\nBo,Li,415 555 0162\n")
    p = plan(store, path)
    assert p.report.to_create == 2
    PatientService(store, clinic_id=CLINIC, region="US").create(
        actor=owner, data={"first_name": "Ana", "last_name": "Lee", "phone": "4155550161"})
    report = run(store, p, owner)
    assert report.created == 1 and report.duplicates == 1
    assert lines(report, "duplicate") == [2]


# --- bad rows ---------------------------------------------------------------------------------


BAD_FILE = (
    "First Name,Last Name,Mobile,Email,DOB,Notes\n"                     # 1
    'Ana,Lee,415 555 0101,ana@example.com,1990-01-02,"Likes\n'          # 2
    'quiet rooms,\n'                                                    # 3
    'and ""tea"""\n'                                                    # 4
    "Bo,Li,555-12,bo@example.com,,\n"                                   # 5: bad phone
    "Cy,Ng,415 555 0103,cy@@example,,\n"                                # 6: bad email
    "Di,Ho,415 555 0104,di@example.com,02/30/1990,\n"                   # 7: not a real date
    "\n"                                                                # 8: blank
    "Ed,Wu,415 555 0105,ed@example.com,2031-01-01,\n"                   # 9: in the future
    ",,415 555 0106,,,\n"                                               # 10: no name
    "Fay,Ox,415 555 0107,fay@example.com,March 4,\n"                    # 11: no year
    "Gus,Po,415 555 0108,gus@example.com,1985-05-05,ok\n"               # 12: fine
    "Hal,Qi,415 555 0109,hal@example,13/13/1988,\n"                     # 13: two problems
)


def test_bad_rows_are_reported_with_physical_line_numbers_and_nothing_is_imported(
    tmp_path: Path, store: Store, owner: Actor
) -> None:
    path = write(tmp_path, "clients.csv", BAD_FILE)
    p = plan(store, path)
    r = p.report
    errors = {(i.line, i.column) for i in r.issues if i.kind == "error"}
    assert errors == {(5, "Mobile"), (6, "Email"), (7, "DOB"), (9, "DOB"), (10, None), (11, "DOB"),
                      (13, "Email"), (13, "DOB")}
    by_line = {i.line: i.message for i in r.issues if i.kind == "error"}
    assert "'555-12' is not a valid phone number" in by_line[5]
    assert "not an email address" in by_line[6]
    assert "not a real date" in by_line[7]
    assert "in the future" in by_line[9]
    assert by_line[10] == "This row has no first or last name."
    assert "has no year" in by_line[11]
    assert (r.total_rows, r.blank_rows, r.errors, r.to_create) == (9, 1, 7, 2)
    assert [row.line for row in p.rows] == [2, 12]
    assert p.rows[0].fields["notes"] == 'Likes\nquiet rooms,\nand "tea"'
    assert r.problem_lines()[0].startswith("line 5: error: Mobile: ")
    assert not r.ok

    with pytest.raises(ci.ImportRejectedError) as info:
        run(store, p, owner)
    assert "7 rows have problems, so nothing was imported" in info.value.user_message
    assert info.value.report.errors == 7
    assert counts(store) == (0, 0, 0)

    # the same, straight from the path
    with pytest.raises(ci.ImportRejectedError):
        run(store, path, owner)
    assert counts(store) == (0, 0, 0)

    report = run(store, path, owner, skip_invalid=True)
    assert report.imported and report.created == 2 and report.skipped_invalid == 7
    assert sorted(p.external_ref or p.first_name for p in patients_by_ref(store).values()) == ["Ana", "Gus"]


def test_row_with_extra_values_and_unclosed_quote(tmp_path: Path, store: Store) -> None:
    path = write(tmp_path, "c.csv",
                 "First Name,Last Name,Mobile\n"
                 "Ana,Lee,415 555 0101\n"
                 "Lee, Jr.,Bo,415 555 0102\n"          # 3: unquoted comma -> 4 values
                 "Cy,Ng,415 555 0103,\n"               # 4: trailing empty value is fine
                 'Di,"Ho,415 555 0104\n'               # 5: quote never closed...
                 "Ed,Wu,415 555 0105\n")               # 6: ...swallows this line
    r = plan(store, path).report
    by_line = {i.line: i.message for i in r.issues if i.kind == "error"}
    assert sorted(by_line) == [3, 5]
    assert "4 values but the heading line has 3 columns" in by_line[3]
    assert "never closed" in by_line[5] and "lines 5–6" in by_line[5]
    assert r.to_create == 2


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("1985-03-04", "US", date(1985, 3, 4)),
        ("1985/03/04", "GB", date(1985, 3, 4)),
        ("03/04/1985", "US", date(1985, 3, 4)),
        ("03/04/1985", "GB", date(1985, 4, 3)),
        ("25/12/1980", "US", date(1980, 12, 25)),
        ("12/25/1980", "GB", date(1980, 12, 25)),
        ("4.3.1985", "DE", date(1985, 3, 4)),
        ("3/4/85", "US", date(1985, 3, 4)),
        ("3/4/05", "US", date(2005, 3, 4)),
        ("1985-03-04 00:00:00", "US", date(1985, 3, 4)),
        ("Mar 4, 1985", "US", date(1985, 3, 4)),
        ("March 4 1985", "GB", date(1985, 3, 4)),
        ("4 March 1985", "US", date(1985, 3, 4)),
        ("04-Mar-1985", "US", date(1985, 3, 4)),
    ],
)
def test_birth_date_formats(text: str, region: str, expected: date) -> None:
    assert ci.parse_birth_date(text, region=region, today=date(2026, 11, 22)) == expected


@pytest.mark.parametrize("text", ["13/13/1990", "02/30/1990", "yesterday", "03/04", "1985", "Smarch 4 1985"])
def test_bad_birth_dates(text: str) -> None:
    with pytest.raises(ValidationError):
        ci.parse_birth_date(text, region="US", today=date(2026, 11, 22))


# --- files that are not client lists ------------------------------------------------------------


def test_empty_file(tmp_path: Path, store: Store) -> None:
    for content in (b"", b"\n\n  \r\n", b"\xef\xbb\xbf"):
        with pytest.raises(ci.ImportFileError, match="empty"):
            plan(store, write(tmp_path, "empty.csv", content))
    assert counts(store) == (0, 0, 0)


def test_header_only_file_is_a_zero_row_report(tmp_path: Path, store: Store, owner: Actor) -> None:
    path = write(tmp_path, "c.csv", "First Name,Last Name,Mobile,Email\r\n")
    p = plan(store, path)
    assert (p.report.total_rows, p.report.to_create, p.report.errors) == (0, 0, 0)
    report = run(store, p, owner)
    assert report.imported and report.created == 0
    assert counts(store)[0] == 0


def test_png_is_refused(tmp_path: Path, store: Store) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    with pytest.raises(ci.ImportFileError, match="PNG image, not a CSV file"):
        plan(store, write(tmp_path, "clients.csv", png))


def test_xlsx_renamed_csv_is_refused(tmp_path: Path, store: Store) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    with pytest.raises(ci.ImportFileError, match=r"Excel workbook \(.xlsx\)") as info:
        plan(store, write(tmp_path, "clients.csv", buf.getvalue()))
    assert "Save As" in info.value.user_message


def test_other_binary_and_html_are_refused(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ci.ImportFileError, match="binary file"):
        plan(store, write(tmp_path, "a.csv", bytes(range(256)) * 8))
    with pytest.raises(ci.ImportFileError, match="old Excel"):
        plan(store, write(tmp_path, "b.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600))
    with pytest.raises(ci.ImportFileError, match="web page"):
        plan(store, write(tmp_path, "c.csv", "<html><table><tr><td>First Name</td></tr></table></html>"))


def test_file_without_a_name_column(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ci.ImportFileError, match="No column with the clients' names") as info:
        plan(store, write(tmp_path, "c.csv", "Visit Date,Service,Amount\n2026-01-01,Botox,300\n"))
    assert info.value.headers == ("Visit Date", "Service", "Amount")
    # a file with no header row at all: the first row is a client, and is not put in the message
    with pytest.raises(ci.ImportFileError) as info:
        plan(store, write(tmp_path, "d.csv", "Ana,Lee,415 555 0101\nBo,Li,415 555 0102\n"))
    assert "Ana" not in info.value.user_message


def test_missing_file(tmp_path: Path, store: Store) -> None:
    with pytest.raises(ci.ImportFileError, match="could not be found"):
        plan(store, tmp_path / "nope.csv")
    with pytest.raises(ci.ImportFileError, match="folder"):
        plan(store, tmp_path)


# --- scale, progress, cancel, failure, dry run ----------------------------------------------------


def test_ten_thousand_rows_import_in_one_go(tmp_path: Path, store: Store, owner: Actor) -> None:
    path = write(tmp_path, "big.csv", generated_csv(10_000))
    calls: list[tuple[int, int]] = []
    report = run(store, path, owner, progress=lambda d, t: calls.append((d, t)))
    assert report.created == 10_000 and report.errors == 0 and report.duplicates == 0
    assert counts(store)[:2] == (10_000, 10_000)
    assert calls[0] == (0, 10_000) and calls[-1] == (10_000, 10_000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) >= 40
    with unit_of_work(store, owner) as ctx:
        assert {h.email for h in repo.search(ctx, "client9999@example.com")} == {"client9999@example.com"}


def test_cancel_midway_leaves_nothing(tmp_path: Path, store: Store, owner: Actor) -> None:
    path = write(tmp_path, "c.csv", generated_csv(2_000))
    p = plan(store, path)
    done = [0]

    def progress(d: int, t: int) -> None:
        done[0] = d

    with pytest.raises(ci.ImportCancelledError, match="Nothing was imported"):
        run(store, p, owner, progress=progress, should_cancel=lambda: done[0] >= 1_000, progress_every=100)
    assert done[0] == 1_000
    assert counts(store) == (0, 0, 0)
    with store.session() as s:
        assert s.execute(sa.text("SELECT count(*) FROM patient_search")).scalar_one() == 0

    # cancelled before anything was read
    with pytest.raises(ci.ImportCancelledError):
        run(store, path, owner, should_cancel=lambda: True)
    assert counts(store) == (0, 0, 0)


def test_disk_full_midway_leaves_nothing(tmp_path: Path, store: Store, owner: Actor) -> None:
    path = write(tmp_path, "c.csv", generated_csv(3_000))
    p = plan(store, path)
    with store.engine.connect() as c:
        pages = int(c.exec_driver_sql("PRAGMA page_count").scalar_one())
    store.engine.dispose()

    def limit(dbapi_conn: object, _record: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cur.execute(f"PRAGMA max_page_count = {pages + 20}")
        cur.fetchall()
        cur.close()

    event.listen(store.engine, "connect", limit)
    try:
        with pytest.raises(DiskFullError):
            run(store, p, owner)
    finally:
        store.engine.dispose()
        event.remove(store.engine, "connect", limit)
    assert counts(store) == (0, 0, 0)
    # and with space again, the same plan imports
    assert run(store, p, owner).created == 3_000


def test_dry_run_writes_nothing(store: Store, owner: Actor) -> None:
    with store.session() as s:
        settings_before = s.execute(sa.text("SELECT count(*) FROM local_setting")).scalar_one()
    p = plan(store, DATA / "clients_non_ascii.csv")
    assert p.report.dry_run and not p.report.imported and p.report.to_create == 5
    assert counts(store) == (0, 0, 0)
    with store.session() as s:
        assert s.execute(sa.text("SELECT count(*) FROM patient_search")).scalar_one() == 0
        assert s.execute(sa.text("SELECT count(*) FROM local_setting")).scalar_one() == settings_before


def test_front_desk_may_not_import(store: Store) -> None:
    desk = Actor(staff_id="s2", device_id=store.device_id, role="front_desk")
    with pytest.raises(PermissionDenied):
        run(store, DATA / "clients_non_ascii.csv", desk)
    assert counts(store) == (0, 0, 0)


def test_plan_for_another_clinic_is_refused(store: Store, owner: Actor) -> None:
    p = plan(store, DATA / "clients_non_ascii.csv")
    with pytest.raises(ValueError):
        ci.run_import(store, p, actor=owner, clinic_id="other", region="US")


def test_logs_carry_no_patient_data(tmp_path: Path, store: Store, owner: Actor,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = write(tmp_path, "c.csv", BAD_FILE)
    with pytest.raises(ci.ImportRejectedError):
        run(store, path, owner)
    run(store, DATA / "clients_non_ascii.csv", owner)
    text = caplog.text
    assert "csv import" in text
    for secret in ("Ana", "Ñúñez", "José", "555", "example.com", "0101", "1990", "Penicillin"):
        assert secret not in text


def test_report_summary_and_dict(tmp_path: Path, store: Store, owner: Actor) -> None:
    p = plan(store, write(tmp_path, "c.csv", BAD_FILE))
    assert p.report.summary() == ("9 client rows read: 2 to import, 0 duplicates skipped, "
                                  "7 rows with problems.")
    d = p.report.to_dict()
    assert d["errors"] == 7 and d["issues"][0]["line"] == 5 and d["mapping"]["Mobile"] == "mobile_phone"
    report = run(store, p, owner, skip_invalid=True)
    assert report.summary() == "Imported 2 new clients, 0 duplicates skipped, 7 rows with problems skipped."


def test_stray_space_after_a_closing_quote_is_read_like_a_spreadsheet_would(
    tmp_path: Path, store: Store
) -> None:
    path = write(tmp_path, "c.csv", 'First Name,Last Name,Mobile\nAna,"Lee" ,415 555 0101\nBo,Li,415 555 0102\n')
    p = plan(store, path)
    assert p.report.ok and [(r.line, r.fields["last_name"]) for r in p.rows] == [(2, "Lee"), (3, "Li")]


def test_a_row_sharing_contact_details_with_a_skipped_duplicate_is_skipped_too(
    tmp_path: Path, store: Store, owner: Actor
) -> None:
    PatientService(store, clinic_id=CLINIC, region="US").create(
        actor=owner, data={"first_name": "Ana", "last_name": "Lee", "phone": "4155550101"})
    path = write(tmp_path, "c.csv",
                 "First Name,Last Name,Mobile,Email\n"
                 "Ana,Lee,415 555 0101,ana@example.com\n"     # 2: already a client (phone)
                 "Ana,Lee,415 555 0199,ana@example.com\n"     # 3: same email as line 2
                 "Bo,Li,415 555 0102,bo@example.com\n"        # 4: new
                 "Bo,Li,415 555 0102,bo2@example.com\n"       # 5: same phone as 4
                 "Bo,Li,,bo2@example.com\n")                  # 6: same email as 5 (a duplicate)
    r = plan(store, path).report
    dups = {i.line: i for i in r.issues if i.kind == "duplicate"}
    assert sorted(dups) == [2, 3, 5, 6] and r.to_create == 1
    assert dups[3].matches_line == 2 and "already a client" in dups[3].message
    assert dups[5].matches_line == 4 and "Only the first one (line 4) is imported" in dups[5].message
    assert dups[6].matches_line == 5 and "skipped as a duplicate" in dups[6].message


def test_a_plan_imports_only_once(store: Store, owner: Actor) -> None:
    p = plan(store, DATA / "clients_non_ascii.csv")
    assert run(store, p, owner).created == 5
    with pytest.raises(ValidationError, match="already imported"):
        run(store, p, owner)
    # importing the same file again finds every client already there
    again = run(store, DATA / "clients_non_ascii.csv", owner)
    assert again.created == 0 and again.duplicates == 5
    assert counts(store)[0] == 5


def test_summary_names_unrecognised_columns(store: Store) -> None:
    assert plan(store, DATA / "clients_non_ascii.csv").report.summary() == (
        "5 client rows read: 5 to import, 0 duplicates skipped, 0 rows with problems. "
        "2 unrecognised columns not imported: Last Visit, Total Spent.")
