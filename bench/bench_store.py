"""Encrypted store vs plain SQLite on the same workload, in one run.

Prints one line per figure: inserting the 20,000-patient demo clinic, 1,000 patient searches,
and open-to-first-query; each with the encrypted/plain ratio (targets: <= 1.3x; open <= 50 ms).
The machines are shared and noisy, so the search and open workloads run in alternating rounds
(encrypted, plain, encrypted, ...) and each side keeps its best round.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack

from _common import search_queries, temp_home, timer  # noqa: I001

from app.db.store import Store, open_store
from app.repositories import patients as patient_repo
from app.repositories.uow import system_actor, unit_of_work
from app.services.demo import generate_demo

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
SEARCHES = 1000
ROUNDS = 5


def searches(store: Store, queries: list[str]) -> float:
    actor = system_actor(store)
    start = time.perf_counter()
    for q in queries:
        with unit_of_work(store, actor) as ctx:
            patient_repo.search(ctx, q, limit=50)
    return time.perf_counter() - start


def open_first_query(home, plain: bool) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    s = open_store(home, plaintext_for_benchmark=plain)
    with unit_of_work(s, system_actor(s)) as ctx:
        patient_repo.search(ctx, "smi", limit=20)
    took = time.perf_counter() - start
    s.engine.dispose()
    return took


def main() -> int:
    with ExitStack() as stack:
        homes = {}
        insert = {}
        for plain in (False, True):
            home = stack.enter_context(temp_home("plain" if plain else "enc"))
            key_file = os.environ["GLOWDESK_KEY_FILE"]
            store = open_store(home, plaintext_for_benchmark=plain)
            with timer() as t:
                generate_demo(store, patients=PATIENTS, seed=42)
            insert[plain] = t[0]
            store.close()
            homes[plain] = (home, key_file)
        stores = {}
        for plain, (home, key_file) in homes.items():
            os.environ["GLOWDESK_KEY_FILE"] = key_file
            stores[plain] = open_store(home, plaintext_for_benchmark=plain)
        queries = search_queries(stores[False], SEARCHES)
        for s in stores.values():
            searches(s, queries[:100])  # warm the page cache, as a running app's would be
        best_search = {False: float("inf"), True: float("inf")}
        best_open = {False: float("inf"), True: float("inf")}
        for _ in range(ROUNDS):
            for plain in (False, True):
                best_search[plain] = min(best_search[plain], searches(stores[plain], queries))
                os.environ["GLOWDESK_KEY_FILE"] = homes[plain][1]
                for _ in range(3):
                    best_open[plain] = min(best_open[plain], open_first_query(homes[plain][0], plain))
        for s in stores.values():
            s.close()
    r_ins = insert[False] / insert[True]
    r_sea = best_search[False] / best_search[True]
    enc_open = best_open[False]
    print(f"store_insert_{PATIENTS}: encrypted {insert[False]:.2f} s, plain {insert[True]:.2f} s, "
          f"ratio {r_ins:.2f} (target <= 1.30)")
    print(f"store_search_{SEARCHES}: encrypted {best_search[False]:.3f} s, plain {best_search[True]:.3f} s, "
          f"ratio {r_sea:.2f} (target <= 1.30)")
    print(f"store_open_first_query: encrypted {enc_open * 1000:.1f} ms, plain {best_open[True] * 1000:.1f} ms, "
          f"ratio to 50 ms target {enc_open / 0.050:.2f}")
    return 0 if r_ins <= 1.3 and r_sea <= 1.3 and enc_open <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
