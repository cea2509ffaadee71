"""HTTP endpoints of the sync protocol, mounted under ``/api/v1/sync``.

The sync step adds push, pull and the live channel here. Use the dependencies of
:mod:`sync_server.deps`:

- ``session: SessionDep`` - one transaction per request; POST requests begin with SQLite's
  write lock; on PostgreSQL the transaction runs as the RLS role, scoped to the device's clinic
  as soon as ``CurrentDevice`` has resolved.
- ``device: CurrentDevice`` for reads (pull, live channel);
- ``staff: CurrentStaff`` for pushes, then ``require(staff.role, Permission.X)`` per entity.

A push calls :meth:`sync_server.sync.service.SequenceLease.lock` before anything else.
"""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/sync", tags=["sync"])
