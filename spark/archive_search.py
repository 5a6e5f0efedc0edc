"""The archive's offline search index: Pagefind, run from the binary its PyPI wheel ships.

Pagefind indexes the `data-pagefind-body` of the issue pages (every edition; the items page
repeats them and would double every hit), one index per `<html lang>`. The index is split
into one bundle per year of issues, `site/pagefind/YYYY/`, which the search page merges in
the browser (Pagefind's `mergeIndex`): an edit to one issue re-indexes the pages of its
year only, since Pagefind cannot update a bundle in place.

Each bundle is built into a temporary directory and copied into place file by file, so
unchanged index files keep their modification times and a reader never sees half an index.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from spark.errors import RenderError
from spark.files import atomic_write_bytes

BUNDLE = "pagefind"
# An issue page, at the site root (first edition) or under an edition's folder (fr/).
_ISSUE_PAGE = re.compile(r"^(?:[a-z]{2}/)?(\d{4})-\d{2}/index\.html$")


def bundle_path(year: str) -> str:
    """The search bundle of a year's issues, relative to the site root (ends with /)."""
    return f"{BUNDLE}/{year}/"


def page_year(rel: str) -> str | None:
    """The year (bundle) a site page is indexed in, or None when search skips the page."""
    match = _ISSUE_PAGE.match(rel)
    return match.group(1) if match else None


def pagefind_executable() -> Path:
    try:
        import pagefind_bin

        return Path(pagefind_bin.get_executable())
    except (ImportError, FileNotFoundError) as exc:
        raise RenderError(
            "the Pagefind binary is missing: reinstall Spark (`pip install 'pagefind[bin]'`)"
        ) from exc


def indexed_years(site: Path) -> set[str]:
    """The years that have issue pages in `site` (each gets a bundle)."""
    years: set[str] = set()
    for page in site.glob("*/index.html"):
        year = page_year(page.relative_to(site).as_posix())
        if year:
            years.add(year)
    for page in site.glob("[a-z][a-z]/*/index.html"):
        year = page_year(page.relative_to(site).as_posix())
        if year:
            years.add(year)
    return years


def stale_years(site: Path) -> set[str]:
    """Years with pages but no complete bundle (first build, an interrupted one)."""
    return {y for y in indexed_years(site) if not (site / bundle_path(y) / "pagefind.js").exists()}


def build_search_index(site: Path, years: Iterable[str] | None = None) -> tuple[int, int]:
    """Rebuild the bundles of `years` (every year when None); (files written, unchanged).

    Bundles of years that no longer have pages, and anything else in `site/pagefind/` that
    is not a year's bundle, are removed.
    """
    present = indexed_years(site)
    wanted = sorted(present if years is None else set(years) & present)
    root = site / BUNDLE
    written = unchanged = 0
    if wanted:
        # Pagefind is itself multi-threaded; two at a time keep both cores busy on short runs.
        workers = min(len(wanted), max(1, min(2, os.cpu_count() or 1)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for w, u in pool.map(lambda y: _build_bundle(site, y), wanted):
                written += w
                unchanged += u
    if root.is_dir():
        for path in sorted(root.iterdir()):
            if path.name in present and path.is_dir():
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    return written, unchanged


def _build_bundle(site: Path, year: str) -> tuple[int, int]:
    target = site / bundle_path(year)
    glob = f"{{{year}-[0-9][0-9],[a-z][a-z]/{year}-[0-9][0-9]}}/index.html"
    with tempfile.TemporaryDirectory(prefix=".pagefind-", dir=site.parent) as tmp:
        out = Path(tmp) / BUNDLE
        try:
            subprocess.run(
                [
                    str(pagefind_executable()),
                    "--site",
                    str(site),
                    "--glob",
                    glob,
                    "--output-path",
                    str(out),
                    "--silent",
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
        except subprocess.CalledProcessError as exc:
            message = (exc.stderr or b"").decode("utf-8", "replace").strip()
            raise RenderError(f"Pagefind could not index {site}: {message}") from exc
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"Pagefind took too long indexing {site}") from exc
        written = unchanged = 0
        fresh: set[Path] = set()
        # pagefind.js last: its presence marks a complete bundle (see stale_years).
        files = sorted(
            (p for p in out.rglob("*") if p.is_file()), key=lambda p: p.name == "pagefind.js"
        )
        for path in files:
            rel = path.relative_to(out)
            fresh.add(rel)
            if atomic_write_bytes(target / rel, path.read_bytes()):
                written += 1
            else:
                unchanged += 1
    # Index fragments are content-addressed: the ones no longer referenced go.
    for path in sorted(target.rglob("*"), reverse=True):
        rel = path.relative_to(target)
        if path.is_file() and rel not in fresh:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return written, unchanged
