"""One exception root, with subclasses keyed by what failed.

Every error a person can cause carries where (file, line, column) and what to do, and
maps to exit code 2; errors of the world (a source down, a recipient refused) map to 1.
Third-party exceptions are converted where they enter Spark, the original chained.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file a person edits, with where and how to fix it."""

    message: str
    path: Path | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    fix: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        text = f"{where}{self.message}"
        if self.fix:
            text += f"\n    fix: {self.fix}"
        return text


class SparkError(Exception):
    """Root of every error Spark raises on purpose."""

    exit_code = 1


class InputError(SparkError):
    """Bad input or configuration: one or more problems, each with file:line and a fix."""

    exit_code = 2

    def __init__(self, problems: Problem | Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = (
            (problems,) if isinstance(problems, Problem) else tuple(problems)
        )
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(InputError):
    """spark.yaml or sources.yaml is wrong."""


class ReviewFileError(InputError):
    """An issue's review.yaml is wrong, or may not be changed (a sent issue)."""


class SubscriberFileError(InputError):
    """A subscriber CSV has bad rows."""


class LockedError(SparkError):
    """Another process holds the lock (a scheduler, a send)."""

    exit_code = 2


class SourceError(SparkError):
    """A source could not be fetched or parsed; recorded in source state, never fatal."""

    def __init__(self, source_id: str, message: str) -> None:
        self.source_id = source_id
        self.message = message
        super().__init__(f"{source_id}: {message}")


class FetchError(SourceError):
    """The HTTP (or file) fetch of a source failed."""

    def __init__(
        self,
        source_id: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(source_id, message)
        self.status = status
        self.retry_after = retry_after


class FeedParseError(SourceError):
    """The fetched bytes are not a usable feed (or page)."""


class StoreError(SparkError):
    """The database is unusable (wrong schema version, locked, corrupt)."""


class RenderError(SparkError):
    """A template failed to render."""


class PreflightError(SparkError):
    """The rendered email breaks a delivery rule; sending is refused."""

    exit_code = 2

    def __init__(self, failures: Iterable[str]) -> None:
        self.failures = tuple(failures)
        super().__init__(
            "the email fails preflight:\n" + "\n".join(f"  - {f}" for f in self.failures)
        )


class SendError(SparkError):
    """Delivery failed (the API refused a request, the network failed)."""
