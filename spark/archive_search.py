"""The archive's offline search index: Pagefind, run from the binary its PyPI wheel ships.

Pagefind indexes the `data-pagefind-body` of the issue pages, one index per `<html lang>`,
and writes a static bundle that the search page loads. It is built into a temporary
directory and copied into `site/pagefind/` file by file, so unchanged index files keep
their modification times and a reader never sees half an index.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from spark.errors import RenderError
from spark.files import atomic_write_bytes

BUNDLE = "pagefind"
# Only issue pages are indexed; the items page repeats them and would double every hit.
PAGES_GLOB = "**/[0-9][0-9][0-9][0-9]-[0-9][0-9]/index.html"


def pagefind_executable() -> Path:
    try:
        import pagefind_bin

        return Path(pagefind_bin.get_executable())
    except (ImportError, FileNotFoundError) as exc:
        raise RenderError(
            "the Pagefind binary is missing: reinstall Spark (`pip install 'pagefind[bin]'`)"
        ) from exc


def build_search_index(site: Path) -> tuple[int, int]:
    """(files written, files unchanged) in `site/pagefind/` after indexing `site`."""
    target = site / BUNDLE
    with tempfile.TemporaryDirectory(prefix=".pagefind-", dir=site.parent) as tmp:
        out = Path(tmp) / BUNDLE
        try:
            subprocess.run(
                [
                    str(pagefind_executable()),
                    "--site",
                    str(site),
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
        for path in sorted(out.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(out)
            fresh.add(rel)
            if atomic_write_bytes(target / rel, path.read_bytes()):
                written += 1
            else:
                unchanged += 1
    # Index fragments are content-addressed: the ones no longer referenced go.
    if target.exists():
        for path in sorted(target.rglob("*"), reverse=True):
            rel = path.relative_to(target)
            if path.is_file() and rel not in fresh:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return written, unchanged
