"""Where mail goes: SendGrid's v3 API, or an outbox of .eml files.

Both take the same SendGrid v3 mail-send body (built by `spark.send.build_message`), so the
outbox shows exactly what SendGrid would have been asked to send. Errors are converted here:
`TransientSendError` (429, 5xx, connection refused: the request was not processed; retry),
`InDoubtError` (the request went out, no answer came: it may or may not have been sent),
`SendError` (SendGrid refused; its own message kept).
"""

from __future__ import annotations

import email.policy
import http.client
import json
import logging
import os
import re
import socket
import urllib.error
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol

from spark.config import Settings
from spark.errors import SendError
from spark.files import atomic_write_bytes

DEFAULT_HOST = "https://api.sendgrid.com"
SUPPRESSION_PAGE = 500
MAX_SUPPRESSION_PAGES = 2000  # a bound on the loop: a million addresses per list

# python_http_client logs request headers (the API key) at DEBUG; never let them out.
logging.getLogger("python_http_client").setLevel(logging.WARNING)


class TransientSendError(SendError):
    """Worth retrying: SendGrid did not process the request (429, 5xx, refused connection)."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class InDoubtError(SendError):
    """The request went out but no answer came back: it may have been sent."""


class Mailer(Protocol):
    """Sends one batch (a v3 mail-send body) and reads the suppression lists."""

    description: str

    def send(self, message: Mapping[str, Any]) -> str | None:
        """Send one request; returns the provider's message id."""
        ...

    def suppressions(self, group_id: int | None) -> dict[str, set[str]]:
        """Addresses not to mail, by kind: asm_group, global, bounce, spam."""
        ...


# --------------------------------------------------------------------------- SendGrid


class SendGridMailer:
    def __init__(self, api_key: str, *, host: str = DEFAULT_HOST, timeout: float = 30.0) -> None:
        from sendgrid import SendGridAPIClient

        self._sg = SendGridAPIClient(api_key, host=host.rstrip("/"))
        # urllib applies it to the connect and to every read, so a hung server fails.
        self._sg.client.timeout = timeout
        self.timeout = timeout
        self.description = "SendGrid" + ("" if host == DEFAULT_HOST else f" at {host}")

    def __repr__(self) -> str:  # never the key
        return f"SendGridMailer({self.description!r})"

    def send(self, message: Mapping[str, Any]) -> str | None:
        response = self._call(lambda c: c.mail.send.post(request_body=dict(message)), "send")
        headers = response.headers
        return headers.get("X-Message-Id") if headers is not None else None

    def suppressions(self, group_id: int | None) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        if group_id is not None:
            resp = self._call(
                lambda c: c.asm.groups._(str(group_id)).suppressions.get(), "read suppressions"
            )
            out["asm_group"] = {str(e).lower() for e in _json(resp.body) or []}
        for kind, path in (
            ("global", "unsubscribes"),
            ("bounce", "bounces"),
            ("spam", "spam_reports"),
        ):
            emails: set[str] = set()
            for page in range(MAX_SUPPRESSION_PAGES):
                q = {"limit": SUPPRESSION_PAGE, "offset": page * SUPPRESSION_PAGE}
                resp = self._call(
                    lambda c, p=path, q=q: getattr(c.suppression, p).get(query_params=q),
                    "read suppressions",
                )
                rows = _json(resp.body) or []
                emails.update(str(r.get("email", "")).lower() for r in rows if isinstance(r, dict))
                if len(rows) < SUPPRESSION_PAGE:
                    break
            out[kind] = emails
        return out

    def _call(self, request: Any, what: str) -> Any:
        from python_http_client.exceptions import HTTPError

        try:
            return request(self._sg.client)
        except HTTPError as exc:
            status = int(exc.status_code)
            message = f"SendGrid answered {status} to {what}: {_sendgrid_message(exc.body)}"
            if status == 429 or status >= 500:
                raise TransientSendError(
                    message, status=status, retry_after=_retry_after(exc.headers)
                ) from exc
            raise SendError(message) from exc
        except urllib.error.URLError as exc:
            # Raised while connecting: the request never left, so a retry is safe.
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError | socket.gaierror | TimeoutError):
                raise TransientSendError(f"cannot reach SendGrid ({what}): {reason}") from exc
            raise InDoubtError(f"no answer from SendGrid ({what}): {reason}") from exc
        except (TimeoutError, ConnectionError, http.client.HTTPException, OSError) as exc:
            raise InDoubtError(
                f"no answer from SendGrid within {self.timeout:g} s ({what}): "
                f"{type(exc).__name__} {exc}"
            ) from exc


def _json(body: bytes | str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _sendgrid_message(body: bytes | str | None) -> str:
    data = _json(body)
    if isinstance(data, dict) and isinstance(data.get("errors"), list):
        parts = []
        for e in data["errors"]:
            if isinstance(e, dict):
                text = str(e.get("message", ""))
                if e.get("field"):
                    text += f" (field {e['field']})"
                parts.append(text)
        if parts:
            return "; ".join(parts)
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return raw[:500] or "(no message)"


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# --------------------------------------------------------------------------- outbox


class OutboxMailer:
    """One .eml per recipient under DIR/<issue>/: what SendGrid would have sent."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.description = f"the outbox {directory}"

    def suppressions(self, group_id: int | None) -> dict[str, set[str]]:
        return {}

    def send(self, message: Mapping[str, Any]) -> str | None:
        args = message.get("custom_args") or {}
        issue = str(args.get("issue") or "unknown")
        prefix = "test-" if args.get("test") == "true" else ""
        folder = self.directory / issue
        batch_id = f"outbox-{uuid.uuid4().hex[:16]}"
        for p in message["personalizations"]:
            for to in p["to"]:
                msg = to_email_message(message, p, to)
                safe = re.sub(r"[^A-Za-z0-9@._+-]", "_", to["email"])
                name = f"{prefix}{args.get('edition', 'en')}-{safe}.eml"
                atomic_write_bytes(folder / name, msg.as_bytes())
        return batch_id


def to_email_message(
    message: Mapping[str, Any], personalization: Mapping[str, Any], to: Mapping[str, str]
) -> EmailMessage:
    """One recipient's MIME message (multipart/alternative: text, then HTML)."""
    msg = EmailMessage(policy=email.policy.SMTP)
    sender = message["from"]
    msg["From"] = formataddr((sender.get("name", ""), sender["email"]))
    msg["To"] = formataddr((to.get("name", ""), to["email"]))
    if message.get("reply_to"):
        msg["Reply-To"] = formataddr(
            (message["reply_to"].get("name", ""), message["reply_to"]["email"])
        )
    msg["Subject"] = personalization.get("subject") or message["subject"]
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=sender["email"].rsplit("@", 1)[-1])
    for name, value in {**message.get("headers", {}), **personalization.get("headers", {})}.items():
        msg[name] = value
    args = {**message.get("custom_args", {}), **personalization.get("custom_args", {})}
    for name, value in args.items():
        msg[f"X-Spark-{name.capitalize()}"] = str(value)
    if message.get("categories"):
        msg["X-Spark-Categories"] = ", ".join(message["categories"])
    parts = {c["type"]: c["value"] for c in message["content"]}
    msg.set_content(parts.get("text/plain", ""), subtype="plain", charset="utf-8")
    if "text/html" in parts:
        msg.add_alternative(parts["text/html"], subtype="html", charset="utf-8")
    return msg


# --------------------------------------------------------------------------- choice


def mailer_from_env(
    settings: Settings, environ: Mapping[str, str] = os.environ
) -> SendGridMailer | OutboxMailer:
    """SendGrid when SENDGRID_API_KEY is set (SENDGRID_API_HOST overrides the URL), else the
    outbox under .spark/outbox/."""
    key = environ.get("SENDGRID_API_KEY", "").strip()
    if key:
        host = environ.get("SENDGRID_API_HOST", "").strip() or DEFAULT_HOST
        return SendGridMailer(key, host=host, timeout=settings.sendgrid.timeout)
    return OutboxMailer(settings.root / ".spark" / "outbox")
