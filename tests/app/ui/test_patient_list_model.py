"""PatientListModel on its own: Qt's model tester plus what each cell shows."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QModelIndex, Qt, qInstallMessageHandler
from PySide6.QtTest import QAbstractItemModelTester

from app.repositories.patients import SearchHit
from app.ui.models.patient_list_model import PATIENT_ID_ROLE, Column, PatientListModel


@dataclass(frozen=True)
class Hit:
    id: str
    first_name: str
    last_name: str
    preferred_name: str | None = None
    phone: str | None = None
    email: str | None = None
    instagram_handle: str | None = None
    vip: bool = False


KATE = Hit("p1", "Katherine", "Lee", "Kate", "+14155550123", "kate@example.com", "katelee", True)
OMAR = Hit("p2", "Omar", "Haddad", None, "+442079460958", None, None, False)
ANA = Hit("p3", "Ana", "Souza", "ana", None, "ana@example.com", None, False)


@pytest.fixture
def tester_failures(qapp):
    """Messages of Qt's QAbstractItemModelTester (it reports failures as qt.modeltest warnings)."""
    failures: list[str] = []

    def handler(_mode, context, message):
        if (context.category or "").startswith("qt.modeltest") or "FAIL!" in message:
            failures.append(message)

    previous = qInstallMessageHandler(handler)
    yield failures
    qInstallMessageHandler(previous)


@pytest.fixture
def model(tester_failures):
    model = PatientListModel(region="US")
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    yield model
    del tester
    assert tester_failures == [], "QAbstractItemModelTester found problems"


def text(model: PatientListModel, row: int, column: Column, role=Qt.ItemDataRole.DisplayRole):
    return model.data(model.index(row, column), role)


def test_model_tester_finds_nothing_wrong_through_resets(model, tester_failures):
    model.set_hits([KATE, OMAR, ANA])
    model.set_hits([OMAR])
    model.clear()
    model.set_hits([ANA, KATE])
    assert tester_failures == []


def test_the_tester_does_catch_a_broken_model(tester_failures):
    class Broken(PatientListModel):
        def rowCount(self, parent=QModelIndex()):  # noqa: B008 - a table that claims children
            return 1

    broken = Broken()
    tester = QAbstractItemModelTester(broken, QAbstractItemModelTester.FailureReportingMode.Warning)
    broken.set_hits([KATE])
    assert tester_failures, "the tester should report a model whose rows have children"
    tester_failures.clear()
    del tester


def test_shape_and_headers(model):
    assert model.rowCount() == 0
    model.set_hits([KATE, OMAR])
    assert model.rowCount() == 2
    assert model.columnCount() == len(Column) == 5
    assert model.rowCount(model.index(0, 0)) == 0  # a table: no children
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers == ["Name", "Phone", "Email", "Instagram", "VIP"]


def test_cells_show_what_the_desk_reads(model):
    model.set_hits([KATE, OMAR, ANA])
    assert text(model, 0, Column.NAME) == "Katherine \u201cKate\u201d Lee"
    assert text(model, 0, Column.PHONE) == "(415) 555-0123"
    assert text(model, 0, Column.EMAIL) == "kate@example.com"
    assert text(model, 0, Column.INSTAGRAM) == "@katelee"
    assert "VIP" in text(model, 0, Column.VIP)
    assert text(model, 0, Column.VIP, Qt.ItemDataRole.ToolTipRole) == "VIP client"
    # a foreign number reads in international format; missing fields are blank, not "None"
    assert text(model, 1, Column.NAME) == "Omar Haddad"
    assert text(model, 1, Column.PHONE) == "+44 20 7946 0958"
    assert text(model, 1, Column.EMAIL) == ""
    assert text(model, 1, Column.INSTAGRAM) == ""
    assert text(model, 1, Column.VIP) == ""
    # a preferred name equal to the first name is not repeated
    assert text(model, 2, Column.NAME) == "Ana Souza"
    assert text(model, 2, Column.PHONE) == ""


def test_patient_id_role_and_lookups(model):
    model.set_hits([KATE, OMAR])
    assert [text(model, r, Column.EMAIL, PATIENT_ID_ROLE) for r in range(2)] == ["p1", "p2"]
    assert model.patient_id(1) == "p2"
    assert model.patient_id(5) is None
    assert model.row_of("p2") == 1
    assert model.row_of("nope") == -1
    assert model.hit(0) is KATE


def test_invalid_indexes_give_nothing(model):
    model.set_hits([KATE])
    assert model.data(QModelIndex()) is None
    assert model.data(model.index(3, 0)) is None
    assert model.flags(QModelIndex()) == Qt.ItemFlag.NoItemFlags
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsSelectable


def test_reset_signals(model, qtbot):
    with qtbot.waitSignals([model.modelAboutToBeReset, model.modelReset]):
        model.set_hits([KATE])


def test_takes_the_services_search_hits(model):
    hit = SearchHit("p9", "Zoë", "Brontë", None, "+14155550199", None, "zoe.b", False)
    model.set_hits([hit])
    assert text(model, 0, Column.NAME) == "Zoë Brontë"
    assert text(model, 0, Column.INSTAGRAM) == "@zoe.b"
