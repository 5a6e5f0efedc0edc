"""Subscribers and their consent records (Canada's anti-spam law, CASL).

CSV in, store rows out. Parsing is pure (text in, subscribers and problems out); the store
is touched only by `import_csv`, `remove` and the listing functions.

Consent rules: express consent does not expire; implied consent (an existing business or
non-business relationship) lasts two years from its date, after which the address is not
mailed until the person gives express consent.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from email_validator import EmailNotValidError, validate_email

from spark.config import Settings
from spark.errors import InputError, Problem, SubscriberFileError
from spark.models import Subscriber
from spark.store import Store

COLUMNS = ("email", "name", "language", "consent", "consent_date", "consent_source")
CONSENTS = ("express", "implied")
IMPLIED_CONSENT_YEARS = 2
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ImportReport:
    read: int  # good rows
    changed: int  # rows inserted or updated in the store
    bad: tuple[Problem, ...]


def normalize_email(raw: str) -> str:
    """The address as stored: validated (syntax only, no DNS), domain lower-cased."""
    info = validate_email(raw.strip(), check_deliverability=False)
    return info.normalized.lower()


def parse_csv(
    text: str, path: Path, settings: Settings, now: datetime
) -> tuple[list[Subscriber], list[Problem]]:
    """Every good row as a Subscriber, every bad row as a Problem with its line number."""
    problems: list[Problem] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise SubscriberFileError(
            Problem(
                "the first row must be a header naming the columns, with at least `email`",
                path,
                1,
                fix=f"start the file with: {','.join(COLUMNS)}",
            )
        )
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise SubscriberFileError(
            Problem(
                f"unknown column(s): {', '.join(unknown)}",
                path,
                1,
                fix=f"use only: {', '.join(COLUMNS)}",
            )
        )
    reader.fieldnames = header
    good: list[Subscriber] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num  # the physical line the row ends on
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if not any(values.values()):
            continue
        if None in row:
            problems.append(
                Problem(
                    "this row has more fields than the header",
                    path,
                    line,
                    fix="quote values that contain commas",
                )
            )
            continue
        sub, problem = _row(values, path, line, settings, now)
        if problem is not None:
            problems.append(problem)
            continue
        assert sub is not None
        if sub.email in seen:
            problems.append(
                Problem(
                    f"{sub.email} appears twice (also on line {seen[sub.email]})",
                    path,
                    line,
                    fix="keep one row per address",
                )
            )
            continue
        seen[sub.email] = line
        good.append(sub)
    return good, problems


def _row(
    values: dict[str, str], path: Path, line: int, settings: Settings, now: datetime
) -> tuple[Subscriber | None, Problem | None]:
    def bad(message: str, fix: str) -> tuple[None, Problem]:
        return None, Problem(message, path, line, fix=fix)

    raw_email = values.get("email", "")
    if not raw_email:
        return bad("the email is empty", "fill in the address or delete the row")
    try:
        email = normalize_email(raw_email)
    except EmailNotValidError as exc:
        return bad(f"{raw_email!r} is not a valid email address: {exc}", "correct the address")
    name = values.get("name", "")
    if CONTROL.search(name):
        return bad("the name contains a line break or control character", "keep it on one line")
    language = values.get("language", "").lower() or settings.default_language
    if not re.fullmatch(r"[a-z]{2}", language):
        return bad(f"unknown language {language!r}", "write en or fr")
    consent = values.get("consent", "").lower()
    if consent not in CONSENTS:
        return bad(
            f"consent must be express or implied, not {consent!r}",
            "record how the person agreed: express (they asked) or implied (a relationship)",
        )
    raw_date = values.get("consent_date", "")
    try:
        consent_date = date.fromisoformat(raw_date)
    except ValueError:
        return bad(
            f"consent_date {raw_date!r} is not a date",
            "write the date consent was given as YYYY-MM-DD",
        )
    if consent_date > now.date():
        return bad(f"consent_date {raw_date} is in the future", "write the real date")
    source = values.get("consent_source", "")
    if CONTROL.search(source):
        return bad("consent_source contains a line break", "keep it on one line")
    return (
        Subscriber(
            email=email,
            name=name,
            language=language,
            consent=consent,  # type: ignore[arg-type]
            consent_date=consent_date.isoformat(),
            consent_source=source,
        ),
        None,
    )


def import_csv(
    store: Store, path: Path, settings: Settings, *, now: datetime, skip_bad: bool = False
) -> ImportReport:
    """Upsert every row (idempotent). With bad rows, nothing is imported unless skip_bad.

    A re-import updates name, language and consent but never re-activates an address that
    unsubscribed or bounced.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(Problem("file not found", path, fix="check the path")) from exc
    except UnicodeDecodeError as exc:
        raise InputError(Problem("the file is not UTF-8 text", path, fix="save as UTF-8")) from exc
    good, bad = parse_csv(text, path, settings, now)
    if bad and not skip_bad:
        raise SubscriberFileError(bad)
    changed = store.upsert_subscribers(good, now)
    return ImportReport(read=len(good), changed=changed, bad=tuple(bad))


def list_subscribers(store: Store, *, status: str | None = None) -> list[Subscriber]:
    return store.subscribers(status=status)


def export_csv(store: Store) -> str:
    """Every subscriber, with status, in the import format plus a `status` column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, "status"])
    for s in store.subscribers():
        writer.writerow(
            [s.email, s.name, s.language, s.consent, s.consent_date, s.consent_source, s.status]
        )
    return out.getvalue()


def remove(store: Store, email: str, *, now: datetime) -> bool:
    """Withdraw an address: it stays on record as unsubscribed, so no re-import mails it."""
    try:
        address = normalize_email(email)
    except EmailNotValidError as exc:
        raise InputError(Problem(f"{email!r} is not a valid email address: {exc}")) from exc
    if store.subscriber(address) is None:
        return False
    store.set_subscriber_status([address], "unsubscribed", now)
    return True


def consent_expires(sub: Subscriber) -> date | None:
    """When implied consent lapses; None for express consent (it does not expire)."""
    if sub.consent != "implied":
        return None
    given = date.fromisoformat(sub.consent_date)
    try:
        return given.replace(year=given.year + IMPLIED_CONSENT_YEARS)
    except ValueError:  # 29 February
        return given.replace(year=given.year + IMPLIED_CONSENT_YEARS, day=28)


def mailable(sub: Subscriber, now: datetime) -> bool:
    if sub.status != "active":
        return False
    expires = consent_expires(sub)
    return expires is None or now.date() < expires


def expiring_consents(
    store: Store, now: datetime, *, within_days: int = 60
) -> list[tuple[Subscriber, date]]:
    """Active subscribers whose implied consent lapses within `within_days` (for status)."""
    limit = now.date() + timedelta(days=within_days)
    out = []
    for sub in store.subscribers(status="active"):
        expires = consent_expires(sub)
        if expires is not None and now.date() <= expires <= limit:
            out.append((sub, expires))
    return sorted(out, key=lambda pair: (pair[1], pair[0].email))


def edition_of(sub: Subscriber, settings: Settings) -> str:
    """The edition a subscriber receives: their language if it is an edition, else the default."""
    if sub.language in settings.editions:
        return sub.language
    if settings.default_language in settings.editions:
        return settings.default_language
    return settings.editions[0]


def with_edition(sub: Subscriber, settings: Settings) -> Subscriber:
    return replace(sub, language=edition_of(sub, settings))
