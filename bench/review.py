"""Review refresh over a store of 20,000 items with 300 candidates in the file.

Prints wall time, CPU time and the process's peak memory (RSS) of a refresh that merges into
an existing file (the daily case: new items arrived, editors' work kept), whether it was
merged into the file's text or took the full round trip, and, as a baseline measured in the
same run, a plain ruamel load + dump of the same file (what a refresh cost before the text
merge, on top of its own work). Target: under 1 s, 200 MB.
"""

from __future__ import annotations

import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from spark.config import load_settings
from spark.files import dump_yaml, parse_yaml
from spark.review import refresh, review_path
from spark.store import Store
from tests.support.review import NOW, make_item, make_newsletter

ITEMS = 20_000
IN_FILE = 300
ISSUE = "2026-12"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(make_newsletter(Path(tmp) / "n", cap=IN_FILE))
        with Store(settings.database_path) as store:
            store.save_items(make_item(n, age_days=(n % 300) / 10) for n in range(ITEMS))
            refresh(settings, store, ISSUE, now=NOW)  # the file, 300 candidates
            path = review_path(settings, ISSUE)
            # Editors decide on 50 items, which makes room; then 200 new items arrive.
            text = path.read_text("utf-8").replace("pick:\n", "pick: no\n", 50)
            path.write_text(text, "utf-8")
            later = NOW + timedelta(days=1)
            store.save_items(
                make_item(n, prefix="new", first_seen=later) for n in range(ITEMS, ITEMS + 200)
            )

            start, cpu_start = time.perf_counter(), time.process_time()
            result = refresh(settings, store, ISSUE, now=later)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            # Process peak RSS (tracemalloc would slow ruamel several-fold and skew the time).
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

        body = path.read_text("utf-8")
        start = time.perf_counter()
        dump_yaml(parse_yaml(body, path))
        baseline = time.perf_counter() - start

    print(f"store items: {ITEMS + 200}; file items after refresh: {IN_FILE + result.added}")
    print(f"refresh: added {result.added}, updated {result.updated}, held back {result.held_back}")
    print(f"merged into the file's text: {'yes' if result.text_merge else 'no (round trip)'}")
    print(f"refresh wall time: {wall:.3f} s (target < 1 s); CPU time {cpu:.3f} s")
    print(f"process peak memory (RSS): {peak / 1e6:.1f} MB (target < 200 MB)")
    print(f"baseline ruamel load+dump of the same file: {baseline:.3f} s")
    print(f"ratio refresh / baseline: {wall / baseline:.2f}")


if __name__ == "__main__":
    main()
