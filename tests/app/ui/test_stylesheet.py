"""The stylesheet is one document Qt must parse whole: a single lost brace makes Qt drop every
rule (the app falls back to its bare default look), so check it the way Qt reads it."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QLabel

from app.ui import theme


def _rules(text: str) -> list[str]:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    depth = 0
    for n, line in enumerate(text.splitlines(), 1):
        for ch in line:
            if ch == "{":
                depth += 1
                assert depth == 1, f"style.qss line {n}: a rule opens inside another (missing '}}')"
            elif ch == "}":
                depth -= 1
                assert depth == 0, f"style.qss line {n}: '}}' without a rule"
    assert depth == 0, "style.qss ends inside a rule"
    return re.findall(r"([^{}]+)\{", text)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_token_is_filled_and_the_braces_balance(scheme: str) -> None:
    palette = theme.DARK if scheme == "dark" else theme.LIGHT
    filled = theme.stylesheet(palette)
    assert filled, "resources/style.qss is missing"
    rules = re.sub(r"/\*.*?\*/", "", filled, flags=re.S)
    left = sorted(set(re.findall(r"@[a-z][a-z0-9-]*", rules)))
    assert not left, f"tokens with no colour in the {scheme} palette: {left}"
    assert len(_rules(filled)) > 100


def test_qt_applies_the_last_rule_in_the_file(qtbot) -> None:
    """Qt parses the whole sheet or none of it: a rule at the very end taking effect shows it
    parsed, and Qt printed no parse warning."""
    warnings: list[str] = []

    def handler(kind, _context, message):  # noqa: ANN001
        if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg):
            warnings.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        label = QLabel("Merged")
        label.setObjectName("MergedNote")
        label.setStyleSheet(theme.stylesheet())
        qtbot.addWidget(label)
        label.ensurePolished()
        assert label.font().bold() or label.font().weight() >= 600
    finally:
        qInstallMessageHandler(previous)
    assert not [w for w in warnings if "style" in w.lower() or "parse" in w.lower()], warnings
