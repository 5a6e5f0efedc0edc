"""Render one issue (email HTML + text, one edition): median of 50 runs.

Baseline, measured in the same run: bare `mjml2html` on the same MJML source, i.e. the
floor set by the MJML engine; the ratio says what Spark's templating, sanitizing and text
part add on top of it. Target: under 50 ms per issue.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import mjml

from spark.config import load_settings
from spark.render import render_edition, render_mjml
from spark.review_file import read_issue

REPO = Path(__file__).resolve().parent.parent
RUNS = 50


def _median_ms(action: Callable[[], object]) -> float:
    action()  # warm caches (templates compiled, locale data loaded)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    from tests.email.conftest import big_issue

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copy(REPO / "examples" / "demo" / "spark.yaml", root / "spark.yaml")
        settings = load_settings(root)
        base = read_issue(REPO / "tests" / "email" / "data" / "review.yaml", settings)
        for label, issue in (("4 items", base), ("30 items", big_issue(base, 30))):
            source = render_mjml(issue, settings, "en")
            spark_ms = _median_ms(lambda issue=issue: render_edition(issue, settings, "en"))
            floor_ms = _median_ms(lambda source=source: mjml.mjml2html(source, fonts={}))
            size = len(render_edition(issue, settings, "en").html.encode()) / 1024
            print(
                f"render one issue ({label}, {size:.1f} KB HTML): median {spark_ms:.1f} ms "
                f"over {RUNS} runs; bare mjml2html {floor_ms:.1f} ms; "
                f"ratio {spark_ms / floor_ms:.2f}x (target < 50 ms)"
            )


if __name__ == "__main__":
    main()
