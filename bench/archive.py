"""Archive build: 120 issues x 25 items, full build (with the search index) and incremental.

Prints the full build time, a one-issue incremental rebuild time and a no-change rebuild
time, against a baseline measured in the same run: reading and parsing the 120 review
files once (what any build from issues/ must do at least once). Targets: full < 10 s,
incremental < 1 s.

    .venv/bin/python -m bench.archive
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from spark.archive import build_site
from spark.config import load_settings
from spark.review_file import read_issue

ISSUES = 120
ITEMS = 25
SETTINGS = Path(__file__).resolve().parent.parent / "tests" / "archive" / "data" / "spark.yaml"
WORDS = [
    "literacy",
    "numeracy",
    "teachers",
    "students",
    "belonging",
    "inclusion",
    "reconciliation",
    "assessment",
    "curriculum",
    "wellbeing",
    "newcomer",
    "rural",
    "northern",
    "classroom",
    "research",
    "evidence",
    "practice",
]
SECTIONS = ("research", "practices", "ideas")
REGIONS = ("ON", "QC", "BC", "AB", "NS", "NU", "national", "international")
FORMATS = ("article", "report", "podcast", "video", "event")


def _sentence(seed: int, n: int = 24) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(n)) + "."


def review_text(index: int) -> str:
    year, month = 2016 + index // 12, index % 12 + 1
    issue = f"{year}-{month:02d}"
    lines = [
        f"issue: {issue}",
        "status: sent",
        f'title: {{en: "Issue {index} of Spark", fr: "Numéro {index} de Spark"}}',
        f'subject: {{en: "Spark {issue}", fr: "Spark {issue}"}}',
        f'intro: {{en: "{_sentence(index)}", fr: "{_sentence(index + 1)}"}}',
        "sections: [research, practices, ideas]",
        "items:",
    ]
    for k in range(ITEMS):
        seed = index * ITEMS + k
        lines += [
            f"  - id: item-{seed}",
            "    pick: yes",
            f"    section: {SECTIONS[k % 3]}",
            f'    title: "Story {seed}: {_sentence(seed, 6)}"',
            f"    url: https://example.org/{issue}/{k}",
            f"    source: Source {k % 40}",
            f"    date: {issue}-{k % 28 + 1:02d}",
            f"    language: {'fr' if k % 3 == 0 else 'en'}",
            f"    region: {REGIONS[seed % len(REGIONS)]}",
            f"    format: {FORMATS[seed % len(FORMATS)]}",
            f'    blurb: {{en: "{_sentence(seed, 40)}", fr: "{_sentence(seed + 3, 40)}"}}',
            f"    tags: [{WORDS[seed % len(WORDS)]}, {WORDS[(seed + 5) % len(WORDS)]}]",
        ]
    return "\n".join(lines) + "\n"


def make_archive(root: Path) -> list[Path]:
    shutil.copy(SETTINGS, root / "spark.yaml")
    paths = []
    for index in range(ISSUES):
        text = review_text(index)
        issue = text.split("\n", 1)[0].removeprefix("issue: ")
        path = root / "issues" / issue / "review.yaml"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _timed(fn: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    return time.perf_counter() - start, result


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="spark-bench-archive-") as tmp:
        root = Path(tmp)
        paths = make_archive(root)
        settings = load_settings(root)
        baseline, _ = _timed(lambda: [read_issue(p, settings) for p in paths])
        full, report = _timed(lambda: build_site(settings))
        files = sum(1 for p in settings.site_dir.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in settings.site_dir.rglob("*") if p.is_file())
        nothing, again = _timed(lambda: build_site(settings))
        edited = paths[len(paths) // 2]
        edited.write_text(edited.read_text().replace("pick: yes", "pick: no", 1))
        incremental, inc = _timed(lambda: build_site(settings))
        print(
            f"archive: {ISSUES} issues x {ITEMS} items, 2 editions;"
            f" {files} files, {size / 1e6:.1f} MB"
        )
        print(f"  baseline (read+parse {ISSUES} review files): {baseline:7.3f} s")
        print(
            f"  full build incl. search index:            {full:7.3f} s"
            f"  ({full / baseline:.2f}x baseline; target < 10 s)"
        )
        print(
            f"  one-issue incremental rebuild:            {incremental:7.3f} s"
            f"  ({incremental / baseline:.2f}x baseline; target < 1 s;"
            f" {inc.files_written} files written)"  # type: ignore[attr-defined]
        )
        print(
            f"  rebuild with nothing changed:             {nothing:7.3f} s"
            f"  ({nothing / baseline:.2f}x baseline;"
            f" {again.files_written} files written)"  # type: ignore[attr-defined]
        )
        del report


if __name__ == "__main__":
    main()
