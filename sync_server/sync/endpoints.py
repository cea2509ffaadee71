"""HTTP endpoints of the sync protocol, mounted under ``/api/v1/sync``.

The sync step adds push, pull and the live channel here. Use the dependencies of
:mod:`sync_server.deps`:

- ``session: SessionDep`` - one transaction per request; POST requests begin with SQLite's
  write lock; on PostgreSQL the transaction runs as the RLS role, scoped to the device's clinic
  as soon as ``CurrentDevice`` has resolved.
- ``device: CurrentDevice`` for reads (pull, live channel);
- ``staff: CurrentStaff`` for pushes, then ``require(staff.role, Permission.X)`` per entity.

A push calls :meth:`sync_server.sync.service.SequenceLease.lock` before anything else (lock
order: ``clinic_sync_state`` first, ``audit_head`` second), is a POST (on SQLite it then holds the
write lock from BEGIN), and writes its audit entries through ``sync_server.audit.service.append``
in the same transaction. Pull is a GET and must not write.

The live channel is long-lived: it must not keep a ``SessionDep`` transaction open while it
streams (that would pin a pooled connection and, on SQLite, a read snapshot). Authenticate with
a short transaction, then poll ``sync.service.current_seq`` in short transactions of their own
(``Database.transaction(write=False, app_role=True)`` plus ``tenancy.enter_clinic``), or wake on
a notification.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/sync", tags=["sync"])
