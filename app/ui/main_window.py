"""The main window: sign-in (and the lock) in front of the navigation rail and the screens.

Nobody signed in (``desk.actor`` is None): the sign-in screen. Signed in: the rail shows the
screens the person's role may use (Today, Clients, Leads, Settings) and the pages are built for
that role; another person signing in gets them built afresh. Idle for the clinic's idle-lock time
(or Ctrl+L), the window shows the sign-in screen again and no client data stays on screen; open
dialogs close. The window's geometry (and its screen) and the last screen shown are remembered.
:class:`app.ui.message_watch.MessageWatch` keeps the unread counts (rail, Clients) and notifies of
new client messages.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.actions import ActionId, Actions
from app.ui.clients_page import ClientsPage
from app.ui.desk import LEAD, MERGE_REVIEW, PATIENT, SETTINGS, STAFF, Desk, StoreSummary
from app.ui.duplicates_page import DuplicatesPage
from app.ui.formatting import display_count, role_label
from app.ui.leads_page import LeadsPage
from app.ui.message_watch import MessageWatch
from app.ui.navigation import NavRail, pages_for
from app.ui.patient_search import PatientSearchPanel
from app.ui.record.view import ClientRecordPanel
from app.ui.session import IdleWatch
from app.ui.settings_page import SettingsPage
from app.ui.signin import SignInScreen
from app.ui.sync_controller import ACTIVITY, APPOINTMENT, SyncController
from app.ui.sync_indicator import SyncChrome
from app.ui.sync_review import SyncReviewDialog
from app.ui.today_slot import make_today
from app.ui.ui_settings import UiSettings
from app.ui.widgets import icon_label, label
from core.permissions import Permission

log = logging.getLogger(__name__)

ABOUT_TEXT = (
    "Glowdesk \u2014 the operating system of a medical spa.\n\n"
    "Client data on this workstation is kept in an encrypted database."
)
DEFAULT_SIZE = (1280, 800)

__all__ = ["MainWindow", "role_label"]


def _span(ms: int) -> str:
    seconds = max(ms // 1000, 1)
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class MainWindow(QMainWindow):
    def __init__(self, desk: Desk, *, idle_lock_ms: int | None = None, sync: SyncController | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.setObjectName("MainWindow")
        self.setWindowTitle(f"{desk.clinic.name} \u2014 Glowdesk")
        self.setWindowIcon(theme.icon("glowdesk", color=None))
        self.setMinimumSize(1000, 620)
        self.summary: StoreSummary | None = None
        self.last_error: str | None = None
        self.locked = True
        self.page_key: str | None = None
        self.pages: dict[str, QWidget] = {}
        self._pages_for: str | None = None  # the staff id the pages were built for
        self._fixed_idle_ms = idle_lock_ms
        self.ui_settings = UiSettings(desk.workspace.home)
        self.sync = sync or SyncController(desk.ops, desk.workspace, parent=self)
        self.sync_chrome = SyncChrome(self.sync, desk, self)
        self.sync_chrome.review_requested.connect(self.open_sync_review)
        self.sync_review = None
        self._record_stale = False  # sync changed the open record while the screen was locked
        self.sync.state_changed.connect(lambda _state: self._apply_sync_actions())

        self.action_registry = Actions(self)
        self.action_registry.fill_menu_bar(self.menuBar())

        self.signin = SignInScreen(desk)
        self.signin.signed_in.connect(self._signed_in)
        self.rail = NavRail(desk.clinic.name, demo=desk.is_demo)
        self.rail.page_requested.connect(self.show_page)
        self.rail.lock_requested.connect(self.lock)
        self.rail.switch_requested.connect(self.switch_user)
        self.page_stack = QStackedWidget()
        self.page_stack.setObjectName("Pages")
        shell = QWidget()
        shell.setObjectName("Central")
        line = QHBoxLayout(shell)
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(0)
        line.addWidget(self.rail)
        work = QVBoxLayout()
        work.setContentsMargins(0, 0, 0, 0)
        work.setSpacing(0)
        work.addWidget(self.sync_chrome.banner)
        work.addWidget(self.page_stack, 1)
        line.addLayout(work, 1)
        self.shell = shell
        self.central = QStackedWidget()
        self.central.addWidget(self.signin)
        self.central.addWidget(shell)
        self.setCentralWidget(self.central)
        self._build_status_bar()

        self.message_watch = MessageWatch(self)
        self.idle = IdleWatch(self)
        self.idle.went_idle.connect(lambda: self.lock(reason="idle"))
        self._wire_actions()
        desk.ops.changes_did_happen.connect(self._changes_did_happen)
        desk.ops.operation_did_fail.connect(self._operation_did_fail)
        self._restore_geometry()
        if desk.actor is not None:
            self._enter(desk.actor)
        else:
            self._show_lock(previous=None, reason="")
        self.refresh_summary()
        self.sync.start()

    # --- compatibility: the Clients screen's parts --------------------------------------------

    @property
    def clients(self) -> ClientsPage:
        page = self.pages.get("clients")
        assert isinstance(page, ClientsPage), "nobody with access to clients is signed in"
        return page

    @property
    def search(self) -> PatientSearchPanel:
        return self.clients.search

    @property
    def detail(self) -> ClientRecordPanel:
        return self.clients.detail

    # --- signing in, locking, switching -------------------------------------------------------

    def lock(self, reason: str = "manual") -> None:
        """Hide everything behind the sign-in screen; the same person can carry on after their PIN."""
        if self.locked or self.desk.actor is None:
            return
        previous = (self.desk.actor_id or "", self.desk.actor_name)
        text = f"Locked after {_span(self.idle.timeout_ms)} without activity." if reason == "idle" else "Locked."
        self._show_lock(previous=previous, reason=f"{text} {previous[1]} was signed in \u2014 enter your PIN "
                                                  "to carry on, or choose another name.")

    def switch_user(self) -> None:
        """Someone else signs in; the screens start afresh for them."""
        if self.desk.actor is None:
            return
        self.locked = False  # let _show_lock run even if already locked
        self._show_lock(previous=None, reason="")

    def _show_lock(self, *, previous: tuple[str, str] | None, reason: str) -> None:
        self.locked = True
        self.idle.stop()
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                dialog.reject()
        self.central.setCurrentWidget(self.signin)
        self.menuBar().setVisible(True)
        self.action_registry.apply_lock(True)
        self._apply_sync_actions()
        self.signin.prepare(previous=previous, reason=reason)

    def _signed_in(self, actor: Any) -> None:
        self._enter(actor)

    def _enter(self, actor: Any) -> None:
        self.desk.actor = actor
        staff_id = getattr(actor, "staff_id", None) or "system"
        if self._pages_for != staff_id:
            self._build_pages()
            self._pages_for = staff_id
        role = self.desk.actor_role
        self.action_registry.apply_role(role)
        self.action_registry.apply_lock(False)
        self._apply_sync_actions()
        self.sync.remember_signed_in(self.desk.actor_id)
        self.rail.apply(role, self.desk.actor_name)
        self.locked = False
        self.central.setCurrentWidget(self.shell)
        allowed = [p.key for p in pages_for(role)]
        wanted = self.page_key or self.ui_settings.last_page()
        self.show_page(wanted if wanted in allowed else (allowed[0] if allowed else "clients"))
        self.message_watch.start()
        self._start_idle_watch()
        if self._record_stale and isinstance(self.pages.get("clients"), ClientsPage):
            self.clients.refresh_record()
        self._record_stale = False

    def _start_idle_watch(self) -> None:
        if self._fixed_idle_ms is not None:
            self.idle.set_timeout_ms(self._fixed_idle_ms)
            self.idle.start()
            return
        self.idle.start()
        self.desk.idle_lock_minutes(on_success=lambda minutes: self.idle.set_timeout_ms(minutes * 60_000))

    def _build_pages(self) -> None:
        for page in self.pages.values():
            self.page_stack.removeWidget(page)
            page.deleteLater()
        self.pages = {}
        self.page_key = None
        factories = {"today": lambda: make_today(self.desk, self.page_stack),
                     "clients": lambda: ClientsPage(self.desk), "leads": lambda: LeadsPage(self.desk),
                     "duplicates": lambda: DuplicatesPage(self.desk), "settings": lambda: SettingsPage(self.desk)}
        for spec in pages_for(self.desk.actor_role):
            page = factories[spec.key]()
            self.pages[spec.key] = page
            self.page_stack.addWidget(page)
        clients = self.pages.get("clients")
        leads = self.pages.get("leads")
        if isinstance(leads, LeadsPage):
            leads.open_client.connect(self.open_patient)
        if isinstance(clients, ClientsPage):
            self.detail.setMinimumWidth(400)
        today = self.pages.get("today")
        for name in ("open_patient_requested", "patient_open_requested", "open_client"):
            signal = getattr(today, name, None)
            if signal is not None and hasattr(signal, "connect"):
                signal.connect(self.open_patient)
                break

    # --- screens ------------------------------------------------------------------------------

    def show_page(self, key: str) -> None:
        page = self.pages.get(key)
        if page is None:
            return
        self.page_key = key
        self.page_stack.setCurrentWidget(page)
        self.rail.set_current(key)
        self.ui_settings.save_last_page(key)
        activate = getattr(page, "activate", None)
        if callable(activate):
            activate()
        elif key == "clients":
            self.clients.search.focus_search() if not self.clients.showing_record else None

    def open_patient(self, patient_id: str) -> None:
        if "clients" not in self.pages:
            return
        self.show_page("clients")
        self.clients.open_patient(patient_id)

    def close_record(self) -> None:
        if "clients" in self.pages:
            self.clients.close_record()

    def focus_search(self) -> None:
        if "clients" in self.pages:
            self.show_page("clients")
            self.clients.focus_search()

    def new_patient(self) -> None:
        if "clients" in self.pages and self.desk.can(Permission.PATIENT_WRITE):
            self.show_page("clients")
            self.clients.new_patient()

    def edit_patient(self) -> None:
        if "clients" in self.pages:
            self.clients.edit_current()

    def open_current(self) -> None:
        if "clients" in self.pages and self.page_key == "clients":
            self.clients.search.open_current()

    # --- keeping up to date -------------------------------------------------------------------

    def refresh(self) -> None:
        for page in self.pages.values():
            refresh = getattr(page, "refresh", None)
            if callable(refresh):
                refresh()
        if "clients" in self.pages:
            self.clients.search.refresh()
        self.refresh_summary()

    def refresh_summary(self) -> None:
        self.desk.summarize_store(on_success=self._show_summary)

    def _show_summary(self, summary: StoreSummary) -> None:
        self.summary = summary
        state = "Encrypted store" if summary.encrypted else "Store NOT encrypted"
        self.store_label.setText(f"{state} \u00b7 {display_count(summary.patients, 'patient')}")

    def _changes_did_happen(self, changes: set[str], initiator: Any) -> None:
        clients = self.pages.get("clients")
        synced = getattr(changes, "patient_ids", None)  # sync says which clients changed
        if isinstance(clients, ClientsPage):
            if PATIENT in changes:
                clients.search.refresh()
            shown = clients.detail.record.id if clients.detail.record is not None else None
            if synced is not None:
                if shown in synced and changes & {PATIENT, APPOINTMENT, ACTIVITY, LEAD}:
                    if self.locked:  # nobody is looking: read it again when they are back
                        self._record_stale = True
                    else:
                        clients.refresh_record()
            elif PATIENT in changes and initiator is not clients:
                clients.refresh_record()
        if PATIENT in changes:
            self.refresh_summary()
        leads = self.pages.get("leads")
        if isinstance(leads, LeadsPage) and (changes & {LEAD, PATIENT, STAFF}):
            leads.refresh()
        duplicates = self.pages.get("duplicates")
        if isinstance(duplicates, DuplicatesPage) and (changes & {MERGE_REVIEW, PATIENT}):
            duplicates.refresh()
        if STAFF in changes:
            self.signin.reload()
        settings = self.pages.get("settings")
        if isinstance(settings, SettingsPage) and SETTINGS in changes and initiator is not settings:
            settings.refresh()

    def _operation_did_fail(self, label_text: str, message: str) -> None:
        self.last_error = message
        self.statusBar().showMessage(message, 10_000)
        if self.locked:
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Glowdesk", message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not modal-blocking: the app keeps running

    # --- chrome -------------------------------------------------------------------------------

    def _wire_actions(self) -> None:
        on = self.action_registry.on
        on(ActionId.FIND, self.focus_search)
        on(ActionId.NEW_PATIENT, self.new_patient)
        on(ActionId.EDIT_PATIENT, self.edit_patient)
        on(ActionId.OPEN_RECORD, self.open_current)
        on(ActionId.CLOSE_RECORD, self.close_record)
        on(ActionId.REFRESH, self.refresh)
        on(ActionId.GO_TODAY, lambda: self.show_page("today"))
        on(ActionId.GO_CLIENTS, lambda: self.show_page("clients"))
        on(ActionId.GO_LEADS, lambda: self.show_page("leads"))
        on(ActionId.GO_DUPLICATES, lambda: self.show_page("duplicates"))
        on(ActionId.GO_SETTINGS, lambda: self.show_page("settings"))
        on(ActionId.SYNC_NOW, self.sync.sync_now)
        on(ActionId.SYNC_REVIEW, self.open_sync_review)
        on(ActionId.IMPORT_CLIENTS, self.import_clients)
        on(ActionId.LOCK, self.lock)
        on(ActionId.SWITCH_USER, self.switch_user)
        on(ActionId.QUIT, self.close)
        on(ActionId.ABOUT, self._about)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        bar.setObjectName("StatusBar")
        bar.setSizeGripEnabled(False)
        box = QWidget()
        line = QHBoxLayout(box)
        line.setContentsMargins(12, 0, 0, 0)
        line.setSpacing(6)
        line.addWidget(icon_label("lock", size=14, color="ok"))
        self.store_label = label("Encrypted store \u00b7 counting patients\u2026", name="StoreState")
        line.addWidget(self.store_label)
        bar.addWidget(box)
        bar.addPermanentWidget(self.sync_chrome.indicator)
        clinic = self.desk.clinic
        bar.addPermanentWidget(label(f"{clinic.timezone.replace('_', ' ')} \u00b7 {clinic.currency}",
                                     name="ClinicFacts"))

    def _restore_geometry(self) -> None:
        saved = self.ui_settings.geometry()
        if saved is not None and self.restoreGeometry(saved):
            return
        self.resize(*DEFAULT_SIZE)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            frame = self.frameGeometry()
            frame.moveCenter(screen.availableGeometry().center())
            self.move(frame.topLeft())

    # --- sync and import ------------------------------------------------------------------------

    def _apply_sync_actions(self) -> None:
        self.action_registry.set_enabled(ActionId.SYNC_NOW, self.sync.can_sync)

    def open_sync_review(self) -> None:
        """Sync details and the review list (conflicts, refused changes); not while locked."""
        if self.locked:
            return
        if self.sync_review is not None:
            self.sync_review.raise_()
            return
        dialog = SyncReviewDialog(self.desk, self.sync, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open_client.connect(self.open_patient)
        dialog.destroyed.connect(lambda *_: setattr(self, "sync_review", None))
        self.sync_review: SyncReviewDialog | None = dialog
        dialog.open()

    def import_clients(self) -> None:
        if "clients" in self.pages and self.desk.can(Permission.PATIENT_IMPORT):
            self.show_page("clients")
            self.clients.import_clients()

    def _about(self) -> None:
        QMessageBox.about(self, "About Glowdesk", ABOUT_TEXT)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.ui_settings.save_geometry(self.saveGeometry())
        if self.page_key:
            self.ui_settings.save_last_page(self.page_key)
        self.ui_settings.sync()
        self.idle.shutdown()
        self.sync.stop()
        clients = self.pages.get("clients")
        if isinstance(clients, ClientsPage):
            clients.reset()
        super().closeEvent(event)
