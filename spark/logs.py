"""Structured logs: one line per event, `key=value` pairs, to stderr and `.spark/spark.log`.

    2026-12-01T09:00:02-05:00 level=info event=job.finished job=send issue=2026-12
        ok=true duration=1.84 message="sent 2026-12"

(one line in the file). `log_event(logger, "job.finished", job=..., issue=...)` writes one;
records from other libraries (APScheduler) get the same shape with `event=log`. Secrets
never reach a line: fields named like a secret are masked, and the value of
SENDGRID_API_KEY is masked wherever it appears.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

LOG_FILE = "spark.log"
MAX_BYTES = 5_000_000
BACKUPS = 5
SECRET_ENV = ("SENDGRID_API_KEY",)
_SECRET_KEY = re.compile(r"(key|token|secret|password|authorization)", re.IGNORECASE)
_BARE = re.compile(r"^[A-Za-z0-9_.:/@+\-]+$")
_MARK = "_spark_handler"

logger = logging.getLogger("spark")


def log_event(log: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event; FIELDS become `key=value` pairs (None values are left out)."""
    log.log(level, event, extra={"spark_fields": fields})


def _quote(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    if text and _BARE.match(text):
        return text
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def mask_secrets(text: str) -> str:
    """TEXT with the value of every secret environment variable replaced by ***."""
    for name in SECRET_ENV:
        secret = os.environ.get(name)
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def format_line(
    when: datetime, level: str, event: str, fields: dict[str, Any], logger_name: str = ""
) -> str:
    """The text of one log line (pure, for tests and for the formatter)."""
    parts = [when.isoformat(timespec="seconds"), f"level={level.lower()}"]
    parts.append(f"event={_quote(event)}")
    if logger_name and not logger_name.startswith("spark"):
        parts.append(f"logger={logger_name}")
    for key, value in fields.items():
        if value is None:
            continue
        shown = "***" if _SECRET_KEY.search(key) else _quote(value)
        parts.append(f"{key}={shown}")
    return mask_secrets(" ".join(parts))


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the time (it is swapped by test runners)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).astimezone()
        fields = getattr(record, "spark_fields", None)
        if isinstance(fields, dict):
            event = record.getMessage()
        else:
            event = "log"
            fields = {"message": record.getMessage()}
        if record.exc_info:
            fields = {**fields, "error": self.formatException(record.exc_info)}
        return format_line(when, record.levelname, event, fields, record.name)


def setup_logging(
    state_dir: Path | None, *, stream: TextIO | None = None, level: int = logging.INFO
) -> Path | None:
    """Send Spark's and APScheduler's logs to STREAM (stderr) and STATE_DIR/spark.log.

    Calling it again replaces the handlers it added before (tests, a second run in one
    process). Returns the log file's path.
    """
    formatter = KeyValueFormatter()
    handlers: list[logging.Handler] = [
        logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    ]
    path = None
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / LOG_FILE
        handlers.append(
            logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
            )
        )
    for name in ("spark", "apscheduler"):
        log = logging.getLogger(name)
        for old in [h for h in log.handlers if getattr(h, _MARK, False)]:
            log.removeHandler(old)
            old.close()
        for handler in handlers:
            handler.setFormatter(formatter)
            setattr(handler, _MARK, True)
            log.addHandler(handler)
        # APScheduler's info lines repeat what our job lines say; its warnings (a missed
        # run) matter.
        log.setLevel(level if name == "spark" else max(level, logging.WARNING))
        log.propagate = False
    return path
