"""The desk at a laptop's size (1280x800, the most common clinic laptop): what was cut or hidden
there reads now. The text-fit check (test_text_fit.py) covers every label, button and title; these
look at what it cannot see: table cells, the painted week, and what the person does."""

from __future__ import annotations

import re

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QHeaderView

from app.ui.screen_catalog import SCREENS, Stage
from app.ui.text_fit import cell_misfits, misfits

LAPTOP = (1280, 800)
#: a clinic as busy as the demo's: a full week, a long lead list
CATALOG_PATIENTS = 1000


def show(stage: Stage, name: str):
    stage.resize(LAPTOP)
    widget = next(s for s in SCREENS if s.name == name).show(stage)
    stage.settle()
    return widget


def test_leads_show_whole_names_and_the_name_column_can_be_widened(catalog_stage: Stage) -> None:
    show(catalog_stage, "leads")
    page = catalog_stage.window.pages["leads"]
    table, model = page.table, page.model
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())
            if not table.isColumnHidden(c)] == ["Name", "Status", "Owner", "Reply", "Arrived"]
    assert "years old" in page.detail.facts.text() or page.current_lead().date_of_birth is None  # Age: beside
    cut = cell_misfits(table, model.NAME)
    assert model.rowCount() > 20 and len(cut) <= model.rowCount() // 20, [m.text for m in cut]
    header = table.horizontalHeader()
    assert header.sectionResizeMode(model.NAME) == QHeaderView.ResizeMode.Interactive
    # drag the edge between Name and Status 80 px to the right, as a person would
    before, edge = table.columnWidth(model.NAME), header.sectionViewportPosition(model.NAME) + table.columnWidth(
        model.NAME) - 1
    middle = header.height() // 2
    QTest.mousePress(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(edge, middle))
    for step in range(1, 9):
        QTest.mouseMove(header.viewport(), QPoint(edge + 10 * step, middle))
    QTest.mouseRelease(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(edge + 80, middle))
    catalog_stage.settle()
    assert table.columnWidth(model.NAME) >= before + 70
    catalog_stage.resize((1300, 800))  # the person's width is kept when the window changes
    assert table.columnWidth(model.NAME) >= before + 70
    assert cell_misfits(table, model.NAME) == []


def test_the_week_reads_at_a_laptops_size(catalog_stage: Stage) -> None:
    show(catalog_stage, "week")
    today = catalog_stage.window.pages["today"]
    title, chip = today.title, today.today_chip
    assert title.text() == "Nov 16 \u2013 22" and chip.text() == "This week" and chip.isVisible()
    left_of_chip = chip.mapTo(today, QPoint(0, 0)).x()
    assert title.mapTo(today, QPoint(title.width(), 0)).x() <= left_of_chip  # the badge sits beside the title
    assert title.width() >= title.sizeHint().width()
    for button in (today.provider_button, today.room_button, today.day_button, today.week_button):
        assert button.width() >= button.sizeHint().width(), button.text()
    canvas, layout = today.canvas, today.layout_model
    blocks = layout.blocks
    assert len(blocks) > 40
    readable = 0
    for block in blocks:
        words = canvas.painted_texts(block.entry.id)
        assert canvas.block_texts(block.entry.id)[0] == block.entry.client_name  # the tooltip has it all
        first = re.sub(r"^\d{1,2}:\d\d  ", "", words[0]) if words else ""  # a wide one-line block: time first
        shown = first.rstrip("\u2026")
        if len(shown) >= 3 and block.entry.client_name.startswith(shown[:3]):
            readable += 1
    assert readable >= 0.9 * len(blocks)  # nine blocks in ten at least begin with the client's name
    roomy = [b for b in blocks if canvas.block_rect(b.entry.id).width() >= 120
             and canvas.block_rect(b.entry.id).height() >= 40]
    assert roomy and all(b.entry.service_name.startswith(canvas.painted_texts(b.entry.id)[1].rstrip("\u2026"))
                         for b in roomy)  # and the service below it where there is room


def test_lead_routing_buttons_read_whole(catalog_stage: Stage) -> None:
    show(catalog_stage, "lead-routing")
    routing = catalog_stage.window.pages["settings"].routing
    buttons = (routing.add_rule, routing.edit_button, routing.up, routing.down, routing.remove)
    assert [b.text() for b in buttons] == ["Add rule", "Edit", "Move up", "Move down", "Remove"]
    for button in buttons:
        assert button.isVisible() and button.width() >= button.sizeHint().width(), button.text()
    assert misfits(routing) == []


def test_every_service_row_can_be_told_apart(catalog_stage: Stage) -> None:
    """Juvéderm Ultra XC, Volbella XC and Voluma XC (and the three Laser Hair Removal areas) were
    cut to the same "Juvéderm …": long names are cut in the middle now, and the column is wider."""
    show(catalog_stage, "settings")
    settings = catalog_stage.window.pages["settings"]
    table, model = settings.tables["service"], settings.models["service"]
    names = model.texts(0)
    assert {"Juv\u00e9derm Ultra XC", "Juv\u00e9derm Volbella XC", "Juv\u00e9derm Voluma XC"} <= set(names)
    font = QFont(table.font())
    font.setWeight(QFont.Weight.DemiBold)
    room = table.columnWidth(0) - 2 * (table.style().pixelMetric(table.style().PixelMetric.PM_FocusFrameHMargin) + 1)
    shown = [QFontMetrics(font).elidedText(n, Qt.TextElideMode.ElideMiddle, room) for n in names]
    assert len(set(shown)) == len(names), sorted(shown)
    assert [s for s in shown if s.startswith("Juv")] == [n for n in names if n.startswith("Juv")]  # whole
