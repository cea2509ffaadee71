"""Child process of bench_cold_start.py: start the app, sign the demo owner in, note Today loaded.

``python bench/_signed_in_child.py READY_FILE`` with GLOWDESK_HOME and GLOWDESK_KEY_FILE set,
offscreen. It starts the app as app.bootstrap does after its display check (logging, then
app.ui.app.run), and drives the window as a person would: once the sign-in screen lists the
staff and the start's reads are done, choose Olivia Owens, type her PIN, Enter. When the Today
screen has its day loaded and the event loop turns once more, it writes app.ui.app.write_ready's
line (with ``enter_at``, the moment Enter was pressed) and closes the window.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.bootstrap import setup_logging  # noqa: E402
from app.ui.app import LaunchOptions, run, write_ready  # noqa: E402
from app.ui.main_window import MainWindow  # noqa: E402

OWNER, OWNER_PIN = "Olivia Owens", "1234"
STAFF_ROLE = Qt.ItemDataRole.UserRole + 1


def main() -> int:
    ready = Path(sys.argv[1])
    home = Path(os.environ["GLOWDESK_HOME"])
    app = QApplication([sys.argv[0]])
    setup_logging(home)
    entered: list[float] = []

    def done(window: MainWindow) -> None:
        write_ready(ready, enter_at=entered[0])
        window.close()

    def signed_in(window: MainWindow) -> None:
        today = window.pages["today"]
        today.schedule_shown.connect(lambda: QTimer.singleShot(0, lambda: done(window)))

    def sign_in_when_listed() -> None:
        """A person needs a second or more to find their name and type a PIN: by then the start's
        own reads (the status bar's count) are done. Wait for that, then type."""
        windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if not windows or windows[0].signin.staff.count() == 0 or windows[0].desk.ops.pending:
            QTimer.singleShot(2, sign_in_when_listed)
            return
        window = windows[0]
        staff = window.signin.staff
        window.signin.choose(next(staff.item(i).data(STAFF_ROLE).staff_id for i in range(staff.count())
                                  if staff.item(i).text() == OWNER))
        window.signin.signed_in.connect(lambda _actor: signed_in(window))
        QTest.keyClicks(window.signin.pin, OWNER_PIN)
        entered.append(time.time())
        QTest.keyClick(window.signin.pin, Qt.Key.Key_Return)

    QTimer.singleShot(0, sign_in_when_listed)
    return run(LaunchOptions(home=home), out=print, err=lambda line: print(line, file=sys.stderr))


if __name__ == "__main__":
    sys.exit(main())
