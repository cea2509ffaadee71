"""Actions the clinic server decides, for the screens: claim or release a lead, merge two client
records or mark them different people, read and change the clinic's lead routing.

Each runs in three steps so that the store stays on the DB worker and the network on its pool:
read this workstation's server access (DB), send the request (network), write the server's
answer into the store (DB, broadcasting ``changes_did_happen``). A failure at any step reaches
``on_failure`` with a sentence: offline or not enrolled (:class:`app.sync.requests.NeedsServer`:
"... needs the clinic server"), or the server's refusal (someone else holds the claim, the
review was already resolved).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.ui.operations import Operations
from core.errors import PermissionDenied

if TYPE_CHECKING:  # loaded with the first request: it brings httpx and the wire format
    from app.sync.requests import Answer, Applied, RoutingSheet, ServerAccess

Done = Callable[["Applied"], None]
Failed = Callable[[BaseException], None]


class ServerActions:
    def __init__(self, ops: Operations, store: Any, actor_id: Callable[[], str | None]) -> None:
        self._ops = ops
        self._store = store
        self._actor_id = actor_id
        #: an httpx client for every request (tests bind an in-process server); None: a real one
        self.http: Any = None

    def _run(self, label: str, request: Callable[[ServerAccess, str], Answer], writes: set[str], *,
             on_success: Done, on_failure: Failed) -> None:
        from app.sync.requests import ServerAccess, access, apply_answer

        staff_id = self._actor_id()
        store, ops, http = self._store, self._ops, self.http
        if staff_id is None:
            on_failure(PermissionDenied("Sign in first."))
            return

        def send(server: ServerAccess) -> None:
            if http is not None:
                server = ServerAccess(server.server_url, server.token, http)
            ops.run_network(lambda: request(server, staff_id), on_success=store_answer, on_failure=on_failure,
                            label=label)

        def store_answer(answer: Answer) -> None:
            ops.run_db(lambda: apply_answer(store, answer), on_success=on_success, on_failure=on_failure,
                       writes=writes, label=label)

        ops.run_db(lambda: access(store), on_success=send, on_failure=on_failure, label=label)

    def claim_lead(self, lead_id: str, *, on_success: Done, on_failure: Failed) -> None:
        self._run("claim lead", lambda s, staff: s.claim_lead(lead_id, staff_id=staff), {"lead"},
                  on_success=on_success, on_failure=on_failure)

    def release_lead(self, lead_id: str, *, on_success: Done, on_failure: Failed) -> None:
        self._run("release lead", lambda s, staff: s.release_lead(lead_id, staff_id=staff), {"lead"},
                  on_success=on_success, on_failure=on_failure)

    def merge(self, review_id: str, *, survivor_id: str, keep: dict[str, str], on_success: Done,
              on_failure: Failed) -> None:
        self._run("merge records",
                  lambda s, staff: s.merge(review_id, survivor_id=survivor_id, keep=keep, staff_id=staff),
                  {"patient", "merge_review", "lead"}, on_success=on_success, on_failure=on_failure)

    def dismiss(self, review_id: str, *, on_success: Done, on_failure: Failed) -> None:
        self._run("not the same person", lambda s, staff: s.dismiss(review_id, staff_id=staff), {"merge_review"},
                  on_success=on_success, on_failure=on_failure)

    # --- lead routing (Settings) --------------------------------------------------------------

    def _server(self, label: str, then: Callable[[ServerAccess, str], None], on_failure: Failed) -> None:
        """This workstation's server access (DB thread), then ``then`` on the UI thread."""
        from app.sync.requests import ServerAccess, access

        staff_id = self._actor_id()
        http = self.http
        if staff_id is None:
            on_failure(PermissionDenied("Sign in first."))
            return

        def got(server: ServerAccess) -> None:
            then(ServerAccess(server.server_url, server.token, http) if http is not None else server, staff_id)

        self._ops.run_db(lambda: access(self._store), on_success=got, on_failure=on_failure, label=label)

    def lead_routing(self, *, on_success: Callable[[RoutingSheet], None], on_failure: Failed) -> None:
        """The routing as the server holds it (network pool), for the Settings page."""
        def fetch(server: ServerAccess, staff_id: str) -> None:
            self._ops.run_network(lambda: server.lead_routing(staff_id=staff_id), on_success=on_success,
                                  on_failure=on_failure, label="load lead routing")

        self._server("load lead routing", fetch, on_failure)

    def save_lead_routing(self, version: str, lead_routing: dict[str, Any], *,
                          on_success: Callable[[RoutingSheet], None], on_failure: Failed) -> None:
        """Save (network pool), then write the clinic record the server answered with (DB thread,
        broadcasting "settings"); ``on_success`` gets the new sheet."""
        from app.sync.requests import apply_answer

        def sent(result: tuple[RoutingSheet, Answer]) -> None:
            sheet, answer = result
            self._ops.run_db(lambda: apply_answer(self._store, answer), on_success=lambda _a: on_success(sheet),
                             on_failure=on_failure, writes={"settings"}, label="save lead routing")

        def send(server: ServerAccess, staff_id: str) -> None:
            self._ops.run_network(lambda: server.save_lead_routing(version, lead_routing, staff_id=staff_id),
                                  on_success=sent, on_failure=on_failure, label="save lead routing")

        self._server("save lead routing", send, on_failure)
