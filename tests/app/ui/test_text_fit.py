"""Text that does not fit: the check itself (it can fail), and every main screen of the screen
catalog at the laptop and the desktop size."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableView, QTabWidget, QWidget

from app.ui.screen_catalog import SCREENS, SIZES, Stage
from app.ui.text_fit import ElidedLabel, mark_elided, misfits, report

LONG = "Laser Hair Removal \u2014 Medium Area"


def _squeezed(qtbot, *widgets: QWidget, width: int = 60) -> QWidget:
    box = QWidget()
    line = QHBoxLayout(box)
    line.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        line.addWidget(widget)
    qtbot.addWidget(box)
    box.show()
    box.setFixedWidth(width)
    qtbot.waitExposed(box)
    return box


def test_a_clipped_label_fails_the_check(qtbot) -> None:
    clipped = QLabel(LONG)
    clipped.setObjectName("Clipped")
    clipped.setMinimumWidth(10)
    box = _squeezed(qtbot, clipped)
    found = misfits(box)
    assert [m.where.split("/")[-1] for m in found] == ["Clipped"]
    assert found[0].kind == "label" and found[0].text == LONG
    assert found[0].needed > found[0].available == clipped.width()
    assert "Clipped" in report(found)


def test_a_label_that_fits_passes(qtbot) -> None:
    box = _squeezed(qtbot, QLabel("Leads"), width=200)
    assert misfits(box) == []


def test_a_tooltip_alone_does_not_excuse_a_clipped_label(qtbot) -> None:
    clipped = QLabel(LONG)
    clipped.setMinimumWidth(10)
    mark_elided(clipped, LONG)  # says it is cut on purpose, but shows the whole text clipped
    assert len(misfits(_squeezed(qtbot, clipped))) == 1


def test_a_deliberately_elided_label_with_its_tooltip_passes(qtbot) -> None:
    elided = ElidedLabel(LONG)
    box = _squeezed(qtbot, elided, width=90)
    assert elided.text().endswith("\u2026") and elided.toolTip() == LONG
    assert misfits(box) == []


def test_clipped_buttons_tabs_and_header_sections_fail(qtbot) -> None:
    button = QPushButton("Move down")
    button.setObjectName("Down")
    button.setMinimumWidth(10)
    box = _squeezed(qtbot, button, width=30)
    assert [m.kind for m in misfits(box)] == ["button"]

    tabs = QTabWidget()
    for title in ("Timeline", "Appointments", "Messages", "Payments"):
        tabs.addTab(QWidget(), title)
    qtbot.addWidget(tabs)
    tabs.resize(150, 100)
    tabs.show()
    qtbot.waitExposed(tabs)
    assert {m.kind for m in misfits(tabs)} == {"tab"}

    model = QStandardItemModel(1, 2)
    model.setHorizontalHeaderLabels(["Name", "Working hours"])
    table = QTableView()
    table.setModel(model)
    table.setColumnWidth(1, 30)
    qtbot.addWidget(table)
    table.show()
    qtbot.waitExposed(table)
    assert [m.text for m in misfits(table) if m.kind == "header"] == ["Working hours"]
    table.setColumnWidth(0, 400)  # pushed out of view: the table scrolls sideways
    table.setColumnWidth(1, 200)
    table.resize(300, 200)
    qtbot.wait(10)
    assert [(m.text, "out of view" in m.detail) for m in misfits(table) if m.kind == "header"] == [
        ("Name", True), ("Working hours", True)]


def test_texts_drawn_over_each_other_fail(qtbot) -> None:
    box = QWidget()
    qtbot.addWidget(box)
    box.resize(300, 60)
    first, second = QLabel("Nov 17 \u2013 23, 2026", box), QLabel("This week", box)
    first.move(10, 10)
    second.move(40, 10)
    box.show()
    qtbot.waitExposed(box)
    assert [m.kind for m in misfits(box)] == ["overlap"]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_main_screen_fits(catalog_stage: Stage, size: tuple[int, int]) -> None:
    """Every label, button, tab and header section of every registered screen shows its whole
    text (or is cut on purpose, the full text in its tooltip), at the laptop and desktop sizes."""
    stage = catalog_stage
    stage.resize(size)
    found = []
    for shown in SCREENS:
        widget = shown.show(stage)
        stage.settle()
        assert widget.width() == size[0] or widget is not stage.window
        found += [f"{shown.name}: {m}" for m in misfits(widget)]
    assert not found, f"{len(found)} texts do not fit at {size[0]}x{size[1]}:\n" + "\n".join(found)
