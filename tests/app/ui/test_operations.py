"""The DB worker: one thread, in order, callbacks on the UI thread, one changes broadcast."""

from __future__ import annotations

import logging
import threading

import pytest

from app.ui.errors import GENERIC_MESSAGE
from app.ui.operations import Operations
from core.errors import ValidationError


@pytest.fixture
def ops(qapp):
    ops = Operations()
    yield ops
    assert ops.shutdown()


def test_work_runs_on_one_other_thread_and_answers_on_the_ui_thread(ops, qtbot):
    ui = threading.get_ident()
    seen: list[tuple[int, bool]] = []
    for i in range(20):
        ops.run_db(lambda: threading.get_ident(),
                   on_success=lambda tid, i=i: seen.append((tid, threading.get_ident() == ui)))
    qtbot.waitUntil(lambda: len(seen) == 20)
    worker_ids = {tid for tid, _ in seen}
    assert len(worker_ids) == 1 and ui not in worker_ids
    assert all(on_ui for _, on_ui in seen)
    assert ops.pending == 0


def test_db_work_runs_in_submission_order(ops, qtbot):
    order: list[int] = []
    results: list[int] = []
    for i in range(50):
        ops.run_db(lambda i=i: order.append(i) or i, on_success=results.append)
    qtbot.waitUntil(lambda: len(results) == 50)
    assert order == list(range(50)) == results


def test_a_write_broadcasts_its_changes_once_after_success(ops, qtbot):
    got = []
    ops.changes_did_happen.connect(lambda changes, initiator: got.append((changes, initiator)))
    done = []
    marker = object()
    with qtbot.waitSignal(ops.changes_did_happen):
        ops.run_db(lambda: "saved", on_success=done.append, writes={"patient"}, initiator=marker)
    assert done == ["saved"]
    assert got == [({"patient"}, marker)]
    # reads broadcast nothing
    with qtbot.assertNotEmitted(ops.changes_did_happen, wait=100):
        ops.run_db(lambda: 1, on_success=done.append)
        qtbot.waitUntil(lambda: len(done) == 2)


def test_a_glowdesk_error_shows_its_own_sentence(ops, qtbot):
    def fail():
        raise ValidationError("Enter the client's first or last name.")

    with qtbot.waitSignal(ops.operation_did_fail) as blocker:
        ops.run_db(fail, on_success=None, label="save client")
    assert blocker.args == ["save client", "Enter the client's first or last name."]


def test_other_errors_are_generic_and_logged_without_their_message(ops, qtbot, caplog):
    def fail():
        raise RuntimeError("Katherine Lee +14155550123")  # imagine patient data in a message

    with caplog.at_level(logging.ERROR), qtbot.waitSignal(ops.operation_did_fail) as blocker:
        ops.run_db(fail, on_success=None, label="open client")
    assert blocker.args == ["open client", GENERIC_MESSAGE]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "open client" in logged
    assert "Katherine" not in logged and "555" not in logged


def test_own_failure_handler_replaces_the_default(ops, qtbot):
    errors: list[BaseException] = []
    with qtbot.assertNotEmitted(ops.operation_did_fail, wait=50):
        ops.run_db(lambda: 1 / 0, on_success=None, on_failure=errors.append)
        qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ZeroDivisionError)


def test_cancelled_work_is_skipped_or_its_result_dropped(ops, qtbot):
    gate = threading.Event()
    ran: list[str] = []
    delivered: list[str] = []
    ops.run_db(lambda: gate.wait(5), on_success=None)  # hold the worker
    stale = ops.run_db(lambda: ran.append("stale") or "stale", on_success=delivered.append)
    fresh = ops.run_db(lambda: ran.append("fresh") or "fresh", on_success=delivered.append)
    stale.cancel()
    gate.set()
    qtbot.waitUntil(lambda: fresh.done and stale.done)
    assert ran == ["fresh"]
    assert delivered == ["fresh"]


def test_progress_reaches_the_ui_thread(ops, qtbot, monkeypatch):
    monkeypatch.setattr("app.ui.operations.PROGRESS_INTERVAL", 0)
    seen: list[tuple[int, int]] = []
    result: list[str] = []

    def work(report):
        for i in range(1, 6):
            report(i, 5)
        return "done"

    ops.run_db(work, on_success=result.append, on_progress=lambda d, t: seen.append((d, t)))
    qtbot.waitUntil(lambda: result == ["done"])
    assert seen == [(i, 5) for i in range(1, 6)]


def test_network_pool_is_not_the_db_thread(ops, qtbot):
    db_tid: list[int] = []
    net_tid: list[int] = []
    ops.run_db(threading.get_ident, on_success=db_tid.append)
    ops.run_network(threading.get_ident, on_success=net_tid.append)
    qtbot.waitUntil(lambda: bool(db_tid and net_tid))
    assert db_tid != net_tid


def test_shutdown_runs_queued_work_then_the_final_step_on_the_db_thread(qapp):
    ops = Operations()
    ran: list[str] = []
    ops.run_db(lambda: ran.append("queued"), on_success=None)
    ops.run_db(lambda: ran.append("db" if ops.is_db_thread() else "ui"), on_success=None)
    assert ops.shutdown(final=lambda: ran.append("final"))
    assert ran == ["queued", "db", "final"]
    with pytest.raises(RuntimeError):
        ops.run_db(lambda: None, on_success=None)


# --- call_db: background threads (the sync engine) wait for DB work, in order with the rest ---


def test_call_db_from_a_background_thread_runs_on_the_db_worker_in_order(ops, qtbot):
    order: list[str] = []
    box: dict[str, object] = {}
    gate = threading.Event()
    ops.run_db(lambda: gate.wait(5) and order.append("screen"), on_success=None)

    def background() -> None:
        box["thread"] = ops.call_db(lambda: (order.append("sync"), threading.get_ident())[1])
        try:
            ops.call_db(lambda: 1 / 0)
        except ZeroDivisionError as exc:
            box["error"] = exc

    worker = threading.Thread(target=background)
    worker.start()
    gate.set()
    worker.join(5)
    assert order == ["screen", "sync"]  # queued behind the screen's work, never beside it
    assert box["thread"] == ops._db.thread_id and isinstance(box["error"], ZeroDivisionError)


def test_call_db_refuses_the_ui_thread_and_stops_waiting_once_the_worker_has_stopped(qapp):
    ops = Operations()
    with pytest.raises(RuntimeError, match="block the UI thread"):
        ops.call_db(lambda: 1)
    assert ops.shutdown()
    from app.ui.operations import OperationsClosed

    outcome: list[BaseException] = []
    worker = threading.Thread(target=lambda: _catch(outcome, lambda: ops.call_db(lambda: 1)))
    worker.start()
    worker.join(5)
    assert not worker.is_alive() and isinstance(outcome[0], OperationsClosed)


def _catch(box: list[BaseException], func) -> None:
    try:
        func()
    except BaseException as exc:  # noqa: BLE001
        box.append(exc)
