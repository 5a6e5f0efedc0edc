"""spark.yaml (newsletter settings) and sources.yaml (the sources), validated.

Every problem names the file, the line and the allowed values; all problems of a file are
reported at once. Nothing here writes anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from spark.errors import ConfigError, Problem
from spark.files import key_line, load_yaml, value_line
from spark.models import LANGUAGES, REGIONS, PageSelectors, Source

SETTINGS_FILE = "spark.yaml"
SOURCES_FILE = "sources.yaml"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Section:
    id: str
    labels: Mapping[str, str]  # language -> label

    def label(self, language: str) -> str:
        return self.labels.get(language) or next(iter(self.labels.values()), self.id)


DEFAULT_SECTIONS = (
    Section("research", {"en": "Research & insights", "fr": "Recherche et analyses"}),
    Section("practices", {"en": "Innovative practices", "fr": "Pratiques novatrices"}),
    Section("ideas", {"en": "Great ideas in education", "fr": "Idées inspirantes"}),
)


@dataclass(frozen=True)
class IngestSettings:
    concurrency: int = 32
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0  # total seconds per source
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    user_agent: str = "Spark-newsletter/0.1 (+https://example.org/spark)"


@dataclass(frozen=True)
class ReviewSettings:
    max_undecided: int = 60
    summary_chars: int = 400


@dataclass(frozen=True)
class SendGridSettings:
    unsubscribe_group: int | None = None
    batch_size: int = 1000
    concurrency: int = 4
    timeout: float = 30.0
    max_retries: int = 5


SCHEDULE_JOBS = ("ingest", "review", "render", "send")


@dataclass(frozen=True)
class ScheduleSettings:
    jobs: Mapping[str, str] = field(default_factory=dict)  # job name -> cron expression
    misfire_grace_seconds: int = 3600


@dataclass(frozen=True)
class Settings:
    root: Path
    name: str = "Spark"
    organization: str = ""
    sender_name: str = "Spark"
    sender_email: str = "spark@example.org"
    reply_to: str | None = None
    postal_address: str = ""
    contact: str = ""
    archive_url: str = "https://example.org/spark/"
    subscribe_url: str = ""
    unsubscribe_url: str = ""
    unsubscribe_mailto: str = ""
    list_id: str = "spark.example.org"
    editions: tuple[str, ...] = ("en",)
    default_language: str = "en"
    sections: tuple[Section, ...] = DEFAULT_SECTIONS
    themes: Mapping[str, float] = field(default_factory=dict)
    timezone: str = "America/Toronto"
    database: str = ""  # a SQLAlchemy-style sqlite URL; empty = .spark/spark.db
    colors: Mapping[str, str] = field(default_factory=dict)
    logo_url: str = ""
    ingest: IngestSettings = field(default_factory=IngestSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    sendgrid: SendGridSettings = field(default_factory=SendGridSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)

    @property
    def section_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.sections)

    def section(self, section_id: str) -> Section | None:
        return next((s for s in self.sections if s.id == section_id), None)

    @property
    def database_path(self) -> Path:
        if not self.database:
            return self.root / ".spark" / "spark.db"
        url = self.database
        if not url.startswith("sqlite:///"):
            raise ConfigError(
                Problem(
                    f"unsupported database URL {url!r}",
                    self.root / SETTINGS_FILE,
                    fix="use sqlite:///path/to/spark.db (relative to the newsletter directory)",
                )
            )
        path = Path(url.removeprefix("sqlite:///"))
        return path if path.is_absolute() else self.root / path

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database_path}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def issues_dir(self) -> Path:
        return self.root / "issues"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def state_dir(self) -> Path:
        return self.root / ".spark"


# --------------------------------------------------------------------------- reading


class _Reader:
    """Pulls typed values out of a YAML mapping, collecting problems with positions."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems

    def problem(
        self, node: Any, key: str | int, message: str, fix: str, *, at_value: bool = True
    ) -> None:
        line, col = value_line(node, key) if at_value else key_line(node, key)
        self.problems.append(Problem(message, self.path, line, col, fix))

    def mapping(self, node: Any, where: str) -> CommentedMap | None:
        if node is None:
            return CommentedMap()
        if not isinstance(node, CommentedMap):
            line = getattr(getattr(node, "lc", None), "line", None)
            self.problems.append(
                Problem(
                    f"{where} must be a mapping of keys to values",
                    self.path,
                    None if line is None else line + 1,
                    None,
                    "write it as `key: value` lines",
                )
            )
            return None
        return node

    def unknown_keys(self, node: CommentedMap, allowed: tuple[str, ...], where: str) -> None:
        for key in node:
            if key not in allowed:
                self.problem(
                    node,
                    key,
                    f"unknown key {key!r} in {where}",
                    f"remove it or use one of: {', '.join(allowed)}",
                    at_value=False,
                )

    def get(
        self,
        node: CommentedMap,
        key: str,
        kind: type | tuple[type, ...],
        default: Any,
        *,
        check: Callable[[Any], str | None] | None = None,
        fix: str = "",
    ) -> Any:
        if key not in node or node[key] is None:
            return default
        value = node[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if (bool not in kinds and isinstance(value, bool)) or not isinstance(value, kinds):
            names = " or ".join(_type_name(k) for k in kinds)
            self.problem(
                node,
                key,
                f"{key!r} must be {names}, not {value!r}",
                fix or f"write {key}: <{names}>",
            )
            return default
        if check is not None:
            error = check(value)
            if error:
                self.problem(node, key, f"{key!r}: {error}", fix or error)
                return default
        if isinstance(value, str):
            return str(value)
        return value

    def str_list(self, node: CommentedMap, key: str) -> tuple[str, ...]:
        if key not in node or node[key] is None:
            return ()
        value = node[key]
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
            self.problem(
                node, key, f"{key!r} must be a list of words", f"write {key}: [word, another]"
            )
            return ()
        return tuple(str(v) for v in value)


def _type_name(kind: type) -> str:
    return {
        str: "text",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
        list: "a list",
        dict: "a mapping",
    }.get(kind, kind.__name__)


def _one_of(allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return (
            None
            if value in allowed
            else f"{value!r} is not allowed; use one of: {', '.join(allowed)}"
        )

    return check


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than zero"


def _email(value: Any) -> str | None:
    return None if EMAIL.match(value) else f"{value!r} is not an email address"


def _http_url(value: Any) -> str | None:
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    return f"{value!r} is not an http(s) URL"


# --------------------------------------------------------------------------- spark.yaml

_SETTINGS_KEYS = (
    "name", "organization", "sender", "postal_address", "contact", "archive_url",
    "subscribe_url", "unsubscribe_url", "unsubscribe_mailto", "list_id", "editions",
    "default_language", "sections", "themes", "timezone", "database", "colors", "logo_url",
    "ingest", "review", "sendgrid", "schedule",
)  # fmt: skip


def load_settings(root: Path) -> Settings:
    """Read ROOT/spark.yaml. A missing file gives the embedded defaults."""
    root = root.resolve()
    path = root / SETTINGS_FILE
    if not path.exists():
        return Settings(root=root)
    data = load_yaml(path, ConfigError)
    problems: list[Problem] = []
    r = _Reader(path, problems)
    node = r.mapping(data, "spark.yaml")
    if node is None:
        raise ConfigError(problems)
    r.unknown_keys(node, _SETTINGS_KEYS, "spark.yaml")
    kw: dict[str, Any] = {"root": root}
    for key in ("name", "organization", "postal_address", "contact", "list_id", "logo_url"):
        kw[key] = r.get(node, key, str, getattr(Settings, key))
    for key in ("archive_url", "subscribe_url", "unsubscribe_url"):
        kw[key] = r.get(node, key, str, getattr(Settings, key), check=_http_url)
    if kw["archive_url"] and not kw["archive_url"].endswith("/"):
        kw["archive_url"] += "/"
    kw["unsubscribe_mailto"] = r.get(node, "unsubscribe_mailto", str, "", check=_email)
    kw["database"] = r.get(node, "database", str, "")
    kw["timezone"] = r.get(node, "timezone", str, Settings.timezone, check=_timezone)

    sender = r.mapping(node.get("sender"), "sender")
    if sender is not None:
        r.unknown_keys(sender, ("name", "email", "reply_to"), "sender")
        kw["sender_name"] = r.get(sender, "name", str, Settings.sender_name)
        kw["sender_email"] = r.get(sender, "email", str, Settings.sender_email, check=_email)
        kw["reply_to"] = r.get(sender, "reply_to", str, None, check=_email)

    editions = r.str_list(node, "editions") or ("en",)
    for lang in editions:
        if lang not in LANGUAGES:
            r.problem(node, "editions", f"unknown edition language {lang!r}", "use en, fr or both")
    kw["editions"] = tuple(dict.fromkeys(editions))
    kw["default_language"] = r.get(
        node, "default_language", str, kw["editions"][0], check=_one_of(LANGUAGES)
    )

    if "sections" in node and node["sections"] is not None:
        kw["sections"] = _read_sections(r, node)
    themes = r.mapping(node.get("themes"), "themes")
    if themes is not None:
        kw["themes"] = {
            str(k).lower(): float(v) for k, v in themes.items() if _check_weight(r, themes, k, v)
        }
    colors = r.mapping(node.get("colors"), "colors")
    if colors is not None:
        kw["colors"] = {str(k): str(v) for k, v in colors.items()}
    kw["ingest"] = _read_block(r, node, "ingest", IngestSettings)
    kw["review"] = _read_block(r, node, "review", ReviewSettings)
    kw["sendgrid"] = _read_block(r, node, "sendgrid", SendGridSettings)
    kw["schedule"] = _read_schedule(r, node)
    if problems:
        raise ConfigError(problems)
    return Settings(**kw)


def _timezone(value: Any) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{value!r} is not a known time zone (e.g. America/Toronto, America/Vancouver)"
    return None


def _check_weight(r: _Reader, node: CommentedMap, key: Any, value: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    r.problem(node, key, f"theme {key!r} needs a number as its weight", f"write `{key}: 1.0`")
    return False


def _read_sections(r: _Reader, node: CommentedMap) -> tuple[Section, ...]:
    raw = node["sections"]
    if not isinstance(raw, CommentedSeq):
        r.problem(node, "sections", "'sections' must be a list", "write `- id: research` entries")
        return DEFAULT_SECTIONS
    sections: list[Section] = []
    for index, entry in enumerate(raw):
        m = r.mapping(entry, f"sections item {index + 1}")
        if m is None:
            continue
        r.unknown_keys(m, ("id", *LANGUAGES), "a section")
        sid = r.get(m, "id", str, None)
        if not sid or not SLUG.match(sid):
            r.problem(
                raw,
                index,
                "a section needs an `id` made of lower-case letters, digits and -",
                "write `- id: research`",
                at_value=False,
            )
            continue
        if any(s.id == sid for s in sections):
            r.problem(m, "id", f"section {sid!r} is listed twice", "remove one of them")
        labels = {lang: str(m[lang]) for lang in LANGUAGES if m.get(lang)}
        sections.append(Section(sid, labels or {"en": sid}))
    return tuple(sections) or DEFAULT_SECTIONS


def _read_block(r: _Reader, node: CommentedMap, key: str, cls: type) -> Any:
    block = r.mapping(node.get(key), key)
    defaults = cls()
    if block is None:
        return defaults
    fields = tuple(defaults.__dataclass_fields__)
    r.unknown_keys(block, fields, key)
    kw = {}
    for name in fields:
        default = getattr(defaults, name)
        kind: Any = type(default) if default is not None else int
        if kind is float:
            kind = (float, int)
        check = _positive if kind in (int, (float, int)) and name != "unsubscribe_group" else None
        kw[name] = r.get(block, name, kind, default, check=check)
    return cls(**kw)


def _read_schedule(r: _Reader, node: CommentedMap) -> ScheduleSettings:
    block = r.mapping(node.get("schedule"), "schedule")
    if block is None or not block:
        return ScheduleSettings()
    from spark.cron import cron_trigger

    jobs: dict[str, str] = {}
    grace = ScheduleSettings.misfire_grace_seconds
    for key, value in block.items():
        if key == "misfire_grace_seconds":
            grace = r.get(block, key, int, grace, check=_positive)
        elif key == "timezone":
            r.problem(
                block,
                key,
                "the time zone is set at the top level of spark.yaml",
                "move `timezone:` out of `schedule:`",
                at_value=False,
            )
        elif key not in SCHEDULE_JOBS:
            r.problem(
                block,
                key,
                f"unknown job {key!r} in schedule",
                f"use one of: {', '.join(SCHEDULE_JOBS)} (or misfire_grace_seconds)",
                at_value=False,
            )
        elif isinstance(value, str) and len(value.split()) in (5, 6):
            try:
                cron_trigger(value, ZoneInfo("UTC"))
            except ValueError as exc:
                r.problem(
                    block,
                    key,
                    f"job {key!r}: {exc}",
                    f'write e.g. `{key}: "0 */6 * * *"` (minute hour day month weekday)',
                )
            else:
                jobs[str(key)] = " ".join(value.split())
        else:
            r.problem(
                block,
                key,
                f"job {key!r} needs a cron expression of five fields",
                f'write e.g. `{key}: "0 */6 * * *"` (minute hour day month weekday)',
            )
    return ScheduleSettings(jobs=jobs, misfire_grace_seconds=grace)


# --------------------------------------------------------------------------- sources.yaml

_SOURCE_KEYS = ("id", "name", "url", "kind", "section", "language", "region", "tags",
                "include", "exclude", "enabled", "selectors")  # fmt: skip
_SELECTOR_KEYS = ("item", "title", "link", "date", "summary")


def load_sources(path: Path, settings: Settings) -> list[Source]:
    """Read and validate sources.yaml; every problem at once, with file:line and fix."""
    data = load_yaml(path, ConfigError)
    problems: list[Problem] = []
    r = _Reader(path, problems)
    entries: Any = data
    if isinstance(data, CommentedMap):
        r.unknown_keys(data, ("sources",), "sources.yaml")
        entries = data.get("sources")
    if entries is None:
        return []
    if not isinstance(entries, CommentedSeq):
        raise ConfigError(
            Problem(
                "sources.yaml must hold a list under `sources:`",
                path,
                1,
                1,
                "start the file with `sources:` and one `- id: ...` entry per source",
            )
        )
    sources: list[Source] = []
    seen: dict[str, int | None] = {}
    for index, entry in enumerate(entries):
        node = r.mapping(entry, f"source {index + 1}")
        if node is None:
            continue
        source = _read_source(r, node, path, settings)
        if source is None:
            continue
        if source.id in seen:
            r.problem(
                node,
                "id",
                f"duplicate source id {source.id!r} (first used on line {seen[source.id]})",
                "give each source its own id",
            )
            continue
        seen[source.id] = source.line
        sources.append(source)
    if problems:
        raise ConfigError(problems)
    return sources


def _read_source(r: _Reader, node: CommentedMap, path: Path, settings: Settings) -> Source | None:
    before = len(r.problems)
    r.unknown_keys(node, _SOURCE_KEYS, "a source")
    line = (node.lc.line + 1) if getattr(node, "lc", None) is not None else None
    sid = r.get(node, "id", str, "")
    if not sid:
        r.problems.append(
            Problem(
                "a source has no `id`",
                path,
                line,
                None,
                "add `id: a-short-slug` (lower-case letters, digits, -)",
            )
        )
    elif not SLUG.match(sid):
        r.problem(
            node,
            "id",
            f"source id {sid!r} is not a slug",
            "use lower-case letters, digits and - only, e.g. `edcan-network`",
        )
    name = r.get(node, "name", str, sid)
    url = _read_url(r, node, path)
    kind = r.get(node, "kind", str, "feed", check=_one_of(("feed", "page")))
    section = r.get(node, "section", str, None, check=_one_of(settings.section_ids))
    language = r.get(node, "language", str, "auto", check=_one_of((*LANGUAGES, "auto")))
    region = r.get(node, "region", str, None, check=_one_of(REGIONS))
    enabled = r.get(node, "enabled", bool, True)
    selectors = None
    if kind == "page":
        selectors = _read_selectors(r, node)
    elif "selectors" in node:
        r.problem(
            node,
            "selectors",
            "`selectors` only applies to `kind: page` sources",
            "remove it, or set `kind: page`",
            at_value=False,
        )
    if len(r.problems) > before or not sid or url is None:
        return None
    return Source(
        id=sid,
        name=name,
        url=url,
        kind=kind,
        section=section,
        language=language,
        region=region,
        tags=r.str_list(node, "tags"),
        include=r.str_list(node, "include"),
        exclude=r.str_list(node, "exclude"),
        enabled=enabled,
        selectors=selectors,
        line=line,
    )


def _read_url(r: _Reader, node: CommentedMap, path: Path) -> str | None:
    raw = node.get("url")
    if not isinstance(raw, str) or not raw.strip():
        line = (node.lc.line + 1) if getattr(node, "lc", None) is not None else None
        r.problems.append(
            Problem(
                "a source has no `url`",
                path,
                line,
                None,
                "add `url: https://...` (the feed's address)",
            )
        )
        return None
    raw = raw.strip()
    parts = urlsplit(raw)
    if parts.scheme in ("http", "https"):
        if (
            not parts.netloc
            or " " in raw
            or ("." not in parts.netloc.split(":")[0] and parts.hostname not in ("localhost",))
        ):
            r.problem(
                node,
                "url",
                f"{raw!r} is not a valid web address",
                "write the full address, e.g. https://www.example.ca/feed.xml",
            )
            return None
        return raw
    if parts.scheme == "file":
        return raw
    if parts.scheme and len(parts.scheme) > 1:
        r.problem(
            node,
            "url",
            f"unsupported address scheme {parts.scheme!r} in {raw!r}",
            "use an https:// address (file:// and local paths work for tests)",
        )
        return None
    local = (path.parent / raw).resolve()
    return local.as_uri()


def _read_selectors(r: _Reader, node: CommentedMap) -> PageSelectors | None:
    block = node.get("selectors")
    if not isinstance(block, CommentedMap):
        r.problem(
            node,
            "kind",
            "a `kind: page` source needs `selectors:` (item, title, link)",
            "add selectors: {item: 'article', title: 'h2', link: 'a'}",
        )
        return None
    r.unknown_keys(block, _SELECTOR_KEYS, "selectors")
    values = {k: block.get(k) for k in _SELECTOR_KEYS}
    for k in ("item", "title", "link"):
        if not isinstance(values[k], str) or not values[k]:
            r.problem(
                block if k in block else node,
                k if k in block else "selectors",
                f"selector {k!r} is required for a page source",
                f"add `{k}: <CSS selector>`",
            )
            return None
    return PageSelectors(**{k: (str(v) if v else None) for k, v in values.items()})  # type: ignore[arg-type]
