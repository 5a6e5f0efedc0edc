"""The past-issues archive: a static website built from `issues/` alone (no database).

`build_site` reads every `issues/*/review.yaml`, keeps the issues that were sent, renders
the site in memory (`spark.archive_pages`), writes only the files whose content changed
(atomically), removes the pages of issues no longer present and rebuilds the Pagefind
search index only when a page changed. A draft being edited never breaks the archive:
only a sent issue's problems stop the build, before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from spark.archive_pages import (
    PACKAGE_TEMPLATES,
    IssueRender,
    issue_pages,
    issue_path,
    lang_root,
    make_environment,
    render_aggregates,
    render_issues,
)
from spark.archive_search import BUNDLE, build_search_index, indexed_years, page_year, stale_years
from spark.config import Settings
from spark.errors import InputError, Problem, ReviewFileError
from spark.files import atomic_write_bytes, atomic_write_text
from spark.models import Issue
from spark.review_file import ISSUE_RE, parse_issue

CACHE_FILE = "archive-cache.pickle"
RENDER_CACHE_DIR = "archive-pages"  # one file per rendered issue edition
JINJA_CACHE_DIR = "archive-templates"  # compiled templates
CACHE_VERSION = 1
_SENT = re.compile(r"^status:\s*['\"]?sent\b", re.MULTILINE)


@dataclass(frozen=True)
class BuildReport:
    """What a build did. Paths are relative to the site directory."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...] = ()
    issues: tuple[str, ...] = ()  # the published issues, newest first
    search_rebuilt: bool = False
    search_files: tuple[int, int] = field(default=(0, 0))  # (written, unchanged)

    @property
    def files_written(self) -> int:
        return len(self.written) + self.search_files[0]

    @property
    def files_unchanged(self) -> int:
        return len(self.unchanged) + self.search_files[1]


def build_site(settings: Settings, *, now: datetime | None = None) -> BuildReport:
    """Build `site/` from the sent issues of `issues/`; returns what was written.

    `now` is accepted for the pipeline's uniform signature; no page carries the build time,
    so that a rebuild with nothing changed is byte-identical and rewrites nothing.
    """
    del now
    issues, keys = _load_public_issues(settings)
    env = make_environment(settings, _bytecode_dir(settings))
    cache = _RenderCache(settings)
    renders = render_issues(issues, settings, env, cache, keys)
    cache.prune()
    site = settings.site_dir
    written: list[str] = []
    unchanged: list[str] = []

    def write(files: dict[str, str]) -> None:
        for rel, text in sorted(files.items()):
            # site/ is derived from issues/: a page a crash left wrong differs from its
            # rendering, so the next build rewrites it; no flush to disk per page.
            changed = atomic_write_text(site / rel, text, durable=False)
            (written if changed else unchanged).append(rel)

    pages = issue_pages(renders)
    write(pages)
    removed = _remove_stale_issue_pages(site, set(pages), settings)
    years = {y for p in (*written, *removed) if (y := page_year(p))} | stale_years(site)
    search_rebuilt = bool(years) or _stray_bundles(site)
    search_files = (0, 0)
    # Pagefind reads only the issue pages, now written: it indexes while the pages that
    # list every issue are rendered.
    with ThreadPoolExecutor(max_workers=1) as pool:
        search = pool.submit(build_search_index, site, years) if search_rebuilt else None
        write(render_aggregates(renders, settings, env))
        if search is not None:
            search_files = search.result()
    return BuildReport(
        written=tuple(sorted(written)),
        unchanged=tuple(sorted(unchanged)),
        removed=tuple(removed),
        issues=tuple(sorted((i.issue for i in issues), reverse=True)),
        search_rebuilt=search_rebuilt,
        search_files=search_files,
    )


def _bytecode_dir(settings: Settings) -> Path | None:
    folder = settings.state_dir / JINJA_CACHE_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # the cache only saves time
    return folder


def load_public_issues(settings: Settings) -> list[Issue]:
    """The sent issues of `issues/`, read from their review files (parsed once, then cached).

    Raises ReviewFileError listing every problem of the sent issues that do not read
    cleanly; drafts and approved issues are skipped whatever their state.
    """
    return _load_public_issues(settings)[0]


def _load_public_issues(settings: Settings) -> tuple[list[Issue], dict[str, str]]:
    """(the public issues, their review files' content keys by issue name)."""
    cache_path = settings.state_dir / CACHE_FILE
    cache = _load_cache(cache_path, settings)
    fresh: dict[str, Issue | None] = {}
    issues: list[Issue] = []
    keys: dict[str, str] = {}
    problems: list[Problem] = []
    if not settings.issues_dir.is_dir():
        return [], {}
    for path in sorted(settings.issues_dir.glob("*/review.yaml")):
        data = path.read_bytes()
        key = hashlib.sha256(path.parent.name.encode() + b"\0" + data).hexdigest()
        if key in cache:
            issue = cache[key]
        else:
            issue, found = _read_public(path, data, settings)
            if found:
                problems.extend(found)
                continue
        fresh[key] = issue
        if issue is not None:
            issues.append(issue)
            keys[issue.issue] = key
    if problems:
        raise ReviewFileError(problems)
    if fresh != cache:
        _save_cache(cache_path, settings, fresh)
    return issues, keys


def _read_public(path: Path, data: bytes, settings: Settings) -> tuple[Issue | None, list[Problem]]:
    """(the issue if it is public, problems that stop the build)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem("the review file is not UTF-8 text", path, fix="save it as UTF-8")]
    try:
        issue, problems = parse_issue(text, path, settings)
    except InputError as exc:
        # A YAML syntax error: it matters only if this file claims to be a sent issue.
        return None, (list(exc.problems) if _SENT.search(text) else [])
    if issue is None:
        return None, (problems if _SENT.search(text) else [])
    if issue.status != "sent":
        return None, []
    if problems:
        return None, problems
    if issue.issue != path.parent.name:
        return None, [
            Problem(
                f"this file says `issue: {issue.issue}` but lives in {path.parent.name}/",
                path,
                1,
                None,
                f"move it to issues/{issue.issue}/, or correct `issue:`",
            )
        ]
    return issue, []


def _fingerprint(settings: Settings) -> str:
    # Parsing depends on these settings; a change invalidates every cached issue.
    parts = (
        CACHE_VERSION,
        settings.editions,
        settings.sections,
        settings.default_language,
        settings.timezone,
    )
    digest = hashlib.sha256(repr(parts).encode())
    _hash_files(digest, [_CODE / name for name in PARSING_CODE])
    return digest.hexdigest()


_CODE = Path(__file__).parent
# What an issue read from a review file depends on, besides the file and the settings: a
# new version of these modules misses both caches (render keys derive from the file).
PARSING_CODE = ("review_file.py", "models.py", "files.py")


def _hash_files(digest: Any, paths: list[Path]) -> None:
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
        digest.update(b"\0")


def _read_pickle(path: Path) -> object | None:
    """A cache file's content, or None when it is missing or unreadable."""
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (
        OSError,
        pickle.PickleError,
        EOFError,
        AttributeError,
        ImportError,
        ValueError,
        TypeError,
    ):
        return None


def _load_cache(path: Path, settings: Settings) -> dict[str, Issue | None]:
    stored = _read_pickle(path)
    if not isinstance(stored, dict) or stored.get("fingerprint") != _fingerprint(settings):
        return {}
    issues = stored.get("issues")
    return issues if isinstance(issues, dict) else {}


def _save_cache(path: Path, settings: Settings, issues: dict[str, Issue | None]) -> None:
    data = {"fingerprint": _fingerprint(settings), "issues": issues}
    # The cache only saves time; the archive is right without it.
    with contextlib.suppress(OSError):
        atomic_write_bytes(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))


class _RenderCache:
    """Rendered issues in `.spark/archive-pages/`, named by content and render fingerprint.

    A file's name hashes the issue, its edition, the settings and every template and
    rendering module, so any change to what a page is made of misses the cache.
    """

    def __init__(self, settings: Settings) -> None:
        self.folder = settings.state_dir / RENDER_CACHE_DIR
        self.fingerprint = _render_fingerprint(settings)
        self.used: set[str] = set()

    def _name(self, key: str) -> str:
        return hashlib.sha256(f"{self.fingerprint}\0{key}".encode()).hexdigest() + ".pickle"

    def get(self, key: str) -> IssueRender | None:
        name = self._name(key)
        self.used.add(name)
        value = _read_pickle(self.folder / name)
        return value if isinstance(value, IssueRender) else None

    def put(self, key: str, value: IssueRender) -> None:
        name = self._name(key)
        self.used.add(name)
        # The cache only saves time; the archive is right without it.
        with contextlib.suppress(OSError):
            atomic_write_bytes(
                self.folder / name, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            )

    def prune(self) -> None:
        if not self.folder.is_dir():
            return
        for path in self.folder.glob("*.pickle"):
            if path.name not in self.used:
                with contextlib.suppress(OSError):
                    path.unlink()


def _render_fingerprint(settings: Settings) -> str:
    digest = hashlib.sha256(f"{CACHE_VERSION}\0{settings!r}".encode())
    sources = [_CODE / name for name in ("archive_pages.py", "i18n.py", *PARSING_CODE)]
    for folder in (settings.root / "templates" / "site", PACKAGE_TEMPLATES):
        if folder.is_dir():
            sources.extend(sorted(p for p in folder.rglob("*") if p.is_file()))
    _hash_files(digest, sources)
    return digest.hexdigest()


def _stray_bundles(site: Path) -> bool:
    """Whether `site/pagefind/` holds anything but the bundles of years with pages."""
    root = site / BUNDLE
    if not root.is_dir():
        return False
    return {p.name for p in root.iterdir()} != indexed_years(site)


def _remove_stale_issue_pages(site: Path, expected: set[str], settings: Settings) -> list[str]:
    """Delete issue folders whose page this build did not produce; returns the pages gone.

    Only folders named like an issue (YYYY-MM) under an edition's root are considered, so
    files an operator added to site/ are left alone.
    """
    removed: list[str] = []
    for lang in settings.editions:
        base = site / lang_root(lang)
        if not base.is_dir():
            continue
        for folder in sorted(base.iterdir()):
            if not folder.is_dir() or not ISSUE_RE.match(folder.name):
                continue
            if f"{issue_path(folder.name, lang)}index.html" in expected:
                continue
            removed.extend(
                p.relative_to(site).as_posix() for p in sorted(folder.rglob("*")) if p.is_file()
            )
            shutil.rmtree(folder)
    return removed
