"""Patient search over the 20,000-patient demo clinic: p50 and p95 per query (target p95 <= 20 ms)."""

from __future__ import annotations

import os
import sys
import time

from _common import percentile, search_queries, temp_home  # noqa: I001

from app.db.store import open_store
from app.repositories.uow import system_actor
from app.services.demo import generate_demo
from app.services.patients import PatientService

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
QUERIES = 1000
TARGET_P95_MS = 20.0


def main() -> int:
    with temp_home("search") as home:
        store = open_store(home)
        summary = generate_demo(store, patients=PATIENTS, seed=42)
        del summary
        from app.services.workspace import open_workspace

        store.close()
        ws = open_workspace(home)
        clinic = ws.require_clinic()
        service = PatientService(ws.store, clinic_id=clinic.id, region=clinic.region)
        actor = system_actor(ws.store)
        queries = search_queries(ws.store, QUERIES)
        for q in queries[:50]:  # warm the cache as a running app would be
            service.search(actor=actor, text=q)
        times = []
        found = 0
        for q in queries:
            start = time.perf_counter()
            hits = service.search(actor=actor, text=q)
            times.append((time.perf_counter() - start) * 1000)
            found += bool(hits)
        ws.close()
    p50, p95 = percentile(times, 50), percentile(times, 95)
    print(f"patient_search_{PATIENTS}: p50 {p50:.2f} ms, p95 {p95:.2f} ms over {QUERIES} queries "
          f"({found} with hits), ratio p95/target {p95 / TARGET_P95_MS:.2f} (target p95 <= 20 ms)")
    return 0 if p95 <= TARGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
