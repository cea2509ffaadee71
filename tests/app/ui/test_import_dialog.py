"""Importing a client list from Clients, driven as a person would, on a real encrypted store."""

from __future__ import annotations

import sqlalchemy as sa
from PySide6.QtCore import Qt

from app.db.models import Patient
from app.repositories.context import Actor
from app.repositories.uow import system_actor, unit_of_work
from app.ui.clients_page import ClientsPage
from app.ui.desk import Desk
from app.ui.import_dialog import ImportDialog
from app.ui.main_window import MainWindow
from app.ui.models.import_report_model import ImportIssueModel

HEADER = "First Name,Last Name,Mobile,Email,DOB,Favourite colour\n"
ROWS = (
    "Noor,Haddad,(415) 555-0177,noor@example.com,04/12/1991,teal\n"      # line 2: fine
    "Lena,Fischer,555-12,lena@example.com,,red\n"                       # line 3: bad phone
    "Kat,Lee,415-555-0123,,,\n"                                         # line 4: Kate is a client
    "Bo,Chen,(213) 555-0142,bo@example.com,1985-02-30,\n"               # line 5: no such date
    "Noor,Haddad-Smith,,noor@example.com,,\n"                           # line 6: same email as line 2
    "Ama,Owusu,(323) 555-0199,,,green\n"                                # line 7: fine
)


def patients(desk: Desk) -> int:
    store = desk.workspace.store
    with unit_of_work(store, system_actor(store)) as ctx:
        return int(ctx.session.execute(sa.select(sa.func.count()).select_from(Patient)).scalar_one())


def open_import(qtbot, window: MainWindow) -> ImportDialog:
    window.show_page("clients")
    assert window.clients.import_button.isVisible()
    qtbot.mouseClick(window.clients.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.clients.import_dialog is not None and window.clients.import_dialog.isVisible())
    dialog = window.clients.import_dialog
    assert dialog is not None
    return dialog


def checked(qtbot, dialog: ImportDialog, path) -> None:
    dialog.choose_file(path)
    qtbot.waitUntil(lambda: dialog.busy is None and dialog.plan is not None, timeout=10_000)


def issues(dialog: ImportDialog) -> list[tuple[str, str, str]]:
    m = dialog.issues
    return [(m.index(r, ImportIssueModel.LINE).data(), m.index(r, ImportIssueModel.KIND).data(),
             m.index(r, ImportIssueModel.MESSAGE).data()) for r in range(m.rowCount())]


def test_the_dry_run_lists_bad_rows_by_line_and_duplicates_and_nothing_is_written(qtbot, window, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    before = patients(window.desk)
    dialog = open_import(qtbot, window)
    checked(qtbot, dialog, path)

    assert dialog.summary.text().startswith("6 client rows read: 2 to import, 2 duplicates skipped, 2 rows with problems.")
    assert "1 unrecognised column not imported: Favourite colour" in dialog.summary.text()
    found = issues(dialog)
    assert [(line, kind) for line, kind, _ in found] == [("3", "Problem"), ("4", "Duplicate"), ("5", "Problem"),
                                                         ("6", "Duplicate")]
    assert "555-12" in found[0][2]
    assert "Katherine Lee" in found[1][2] and "already in Glowdesk" in found[1][2]
    assert "line 2" in found[3][2]
    # rows with problems block the import until the person chooses to skip them
    assert not dialog.import_button.isEnabled()
    qtbot.mouseClick(dialog.skip_invalid, Qt.MouseButton.LeftButton)
    assert dialog.import_button.isEnabled() and dialog.import_button.text() == "Import 2 clients"

    # the columns, as detected; a column nobody recognised can be mapped by hand
    fields = dialog.column_fields()
    assert fields["Mobile"] == "mobile_phone" and fields["DOB"] == "date_of_birth"
    assert fields["Favourite colour"] is None
    dialog.set_column("Favourite colour", "notes")
    qtbot.waitUntil(lambda: dialog.busy is None and dialog.plan is not None
                    and dialog.plan.report.mapping.get("Favourite colour") == "notes", timeout=10_000)
    assert "unrecognised" not in dialog.summary.text()
    assert patients(window.desk) == before  # a dry run writes nothing


def test_importing_creates_the_good_rows_and_the_clients_screen_shows_them(qtbot, window, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    before = patients(window.desk)
    dialog = open_import(qtbot, window)
    checked(qtbot, dialog, path)
    qtbot.mouseClick(dialog.skip_invalid, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=10_000)
    assert dialog.summary.text().startswith("Imported 2 new clients, 2 duplicates skipped, 2 rows with problems skipped.")
    assert dialog.close_button.text() == "Done" and not dialog.import_button.isVisible()
    assert patients(window.desk) == before + 2
    qtbot.waitUntil(lambda: window.store_label.text().endswith(f"{before + 2:,} patients"), timeout=5_000)
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    window.search.field.setFocus()
    qtbot.keyClicks(window.search.field, "owusu")
    qtbot.waitUntil(lambda: not window.search.searching and window.search.model.rowCount() == 1, timeout=5_000)


def test_cancelling_an_import_leaves_nothing_half_imported(qtbot, window, tmp_path):
    lines = [HEADER] + [f"Guest{i},Import,(424) 55{i // 10000 % 10}-{i % 10000:04d},,,\n" for i in range(3000)]
    path = tmp_path / "big.csv"
    path.write_text("".join(lines), encoding="utf-8")
    before = patients(window.desk)
    dialog = open_import(qtbot, window)
    dialog.progress_every = 20
    checked(qtbot, dialog, path)
    assert dialog.plan is not None and dialog.plan.report.to_create == 3000
    seen: list[int] = []

    def progressed(done: int, _total: int) -> None:
        seen.append(done)
        if done > 0:
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

    original = dialog._progressed

    def watch(done: int, total: int) -> None:
        original(done, total)
        progressed(done, total)

    dialog._progressed = watch  # type: ignore[method-assign]
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isVisible()
    qtbot.waitUntil(lambda: dialog.busy is None, timeout=20_000)
    assert any(n > 0 for n in seen), "the import finished before it could be cancelled"
    assert dialog.status.text().startswith("The import was cancelled. Nothing was imported.")
    assert dialog.result is None
    assert patients(window.desk) == before


def test_only_roles_that_may_import_see_it(qtbot, desk):
    front = Actor(staff_id=None, device_id=desk.workspace.store.device_id, role="front_desk", name="Fran")
    page = ClientsPage(Desk(desk.ops, desk.workspace, actor=front))
    qtbot.addWidget(page)
    page.show()
    assert not page.import_button.isVisible()
    page.import_clients()
    assert page.import_dialog is None
