"""Encrypted store vs plain SQLite on the same workload, in one run.

Prints one line per figure: inserting the 20,000-patient demo clinic, 1,000 patient searches,
and open-to-first-query; each with the encrypted/plain ratio (targets: <= 1.3x; open <= 50 ms).
"""

from __future__ import annotations

import os
import sys
import time

from _common import search_queries, temp_home, timer  # noqa: I001

from app.db.store import open_store
from app.repositories import patients as patient_repo
from app.repositories.uow import system_actor, unit_of_work
from app.services.demo import generate_demo

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
SEARCHES = 1000


def run(plain: bool) -> dict[str, float]:
    with temp_home("plain" if plain else "enc") as home:
        store = open_store(home, plaintext_for_benchmark=plain)
        with timer() as t_insert:
            generate_demo(store, patients=PATIENTS, seed=42)
        queries = search_queries(store, SEARCHES)
        actor = system_actor(store)
        store.close()
        # open-to-first-query, cold process state but warm OS cache: median of 15
        opens = []
        for _ in range(15):
            start = time.perf_counter()
            s = open_store(home, plaintext_for_benchmark=plain)
            with unit_of_work(s, actor) as ctx:
                patient_repo.search(ctx, "smi", limit=20)
            opens.append(time.perf_counter() - start)
            s.engine.dispose()
        store = open_store(home, plaintext_for_benchmark=plain)
        with timer() as t_search:
            for q in queries:
                with unit_of_work(store, actor) as ctx:
                    patient_repo.search(ctx, q, limit=50)
        store.close()
        opens.sort()
        return {"insert": t_insert[0], "search": t_search[0], "open": opens[len(opens) // 2]}


def main() -> int:
    enc = run(plain=False)
    plain = run(plain=True)
    r_ins = enc["insert"] / plain["insert"]
    r_sea = enc["search"] / plain["search"]
    print(f"store_insert_{PATIENTS}: encrypted {enc['insert']:.2f} s, plain {plain['insert']:.2f} s, "
          f"ratio {r_ins:.2f} (target <= 1.30)")
    print(f"store_search_{SEARCHES}: encrypted {enc['search']:.3f} s, plain {plain['search']:.3f} s, "
          f"ratio {r_sea:.2f} (target <= 1.30)")
    print(f"store_open_first_query: encrypted {enc['open'] * 1000:.1f} ms, plain {plain['open'] * 1000:.1f} ms, "
          f"ratio to 50 ms target {enc['open'] / 0.050:.2f}")
    return 0 if r_ins <= 1.3 and r_sea <= 1.3 and enc["open"] <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
