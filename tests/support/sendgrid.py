"""A SendGrid v3 stand-in: a real HTTP server on 127.0.0.1 for tests and the benchmark.

It implements POST /v3/mail/send (validated against the v3 rules) and the suppression
endpoints Spark reads. It can add latency, answer 429 with Retry-After, 400 with SendGrid's
error JSON, or hang. A request counts as *delivered* only when the client was still connected
to receive the answer: the response is written with `Connection: close`, then the server
waits for the client's orderly close; a client that died first leaves a reset (unread data)
or was already gone, and nothing it asked for is counted.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.servers import serve

RESERVED_HEADERS = {
    "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
    "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc",
}  # fmt: skip


@dataclass
class Failure:
    status: int  # 0 = hang (never answer); 202 = answer normally (a placeholder)
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def validate_mail_send(body: Any) -> list[str]:
    """The v3 mail send rules Spark must satisfy; returns every violation."""
    errors: list[str] = []
    if not isinstance(body, dict):
        return ["the body is not a JSON object"]
    ps = body.get("personalizations")
    if not isinstance(ps, list) or not 1 <= len(ps) <= 1000:
        errors.append("personalizations must hold 1 to 1000 entries")
        ps = []
    for i, p in enumerate(ps):
        to = p.get("to") if isinstance(p, dict) else None
        if (
            not isinstance(to, list)
            or not to
            or not all(isinstance(t, dict) and "@" in str(t.get("email", "")) for t in to)
        ):
            errors.append(f"personalizations[{i}].to must list recipients with an email")
        for name, value in (p.get("headers") or {}).items():
            if name.lower() in RESERVED_HEADERS:
                errors.append(f"personalizations[{i}].headers: {name} is reserved")
            if not isinstance(value, str) or "\r" in value or "\n" in value:
                errors.append(f"personalizations[{i}].headers.{name} must be one line of text")
    sender = body.get("from")
    if not isinstance(sender, dict) or "@" not in str(sender.get("email", "")):
        errors.append("from.email is required")
    subject = body.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        errors.append("subject must be non-empty")
    elif "\r" in subject or "\n" in subject:
        errors.append("subject must be one line")
    content = body.get("content")
    if not isinstance(content, list) or not content:
        errors.append("content is required")
    else:
        types = [c.get("type") for c in content]
        if types[0] != "text/plain" and "text/plain" in types:
            errors.append("text/plain must come first in content")
        if any(t not in ("text/plain", "text/html") for t in types):
            errors.append(f"unexpected content types {types}")
        if any(not c.get("value") for c in content):
            errors.append("content values must be non-empty")
    categories = body.get("categories", [])
    if not isinstance(categories, list) or len(categories) > 10:
        errors.append("categories: at most 10")
    elif any(not isinstance(c, str) or len(c) > 255 for c in categories):
        errors.append("categories must be text of at most 255 characters")
    headers = body.get("headers")
    if not isinstance(headers, dict) or not headers:
        errors.append("headers must be present")
    else:
        for name, value in headers.items():
            if name.lower() in RESERVED_HEADERS:
                errors.append(f"headers: {name} is reserved")
            if not isinstance(value, str) or "\r" in value or "\n" in value:
                errors.append(f"headers.{name} must be one line of text")
    for name, value in (body.get("custom_args") or {}).items():
        if not isinstance(value, str):
            errors.append(f"custom_args.{name} must be a string")
    asm = body.get("asm")
    if asm is not None and not isinstance(asm.get("group_id"), int):
        errors.append("asm.group_id must be an integer")
    return errors


class SendGridStandIn:
    """State of the stand-in; `serve_sendgrid()` runs it."""

    def __init__(self, *, latency: float = 0.0, api_key: str = "test") -> None:
        self.latency = latency
        self.api_key = api_key
        self.lock = threading.Lock()
        self.failures: list[Failure] = []  # consumed one per mail send request, in order
        self.requests: list[dict[str, Any]] = []  # every mail send body received in full
        self.invalid: list[list[str]] = []
        self.delivered: Counter[tuple[str, str, str]] = Counter()  # (issue, edition, email)
        self.delivered_requests = 0
        self.undelivered_requests = 0
        self.suppressions: dict[str, list[str]] = {
            "asm": [], "unsubscribes": [], "bounces": [], "spam_reports": [],
        }  # fmt: skip
        self.suppression_calls: list[str] = []
        self.stop = threading.Event()
        self.url = ""

    def fail_next(self, *failures: Failure) -> None:
        with self.lock:
            self.failures.extend(failures)

    def recipients(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for (_issue, _edition, email), n in self.delivered.items():
            out[email] += n
        return out

    # ------------------------------------------------------------------ HTTP

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        if req.headers.get("Authorization") != f"Bearer {self.api_key}":
            self._json(req, 401, {"errors": [{"message": "authorization required"}]})
            return
        parts = urlsplit(req.path)
        if req.command == "POST" and parts.path == "/v3/mail/send":
            self._mail_send(req)
        elif req.command == "GET":
            self._suppressions(req, parts.path, parse_qs(parts.query))
        else:
            self._json(req, 404, {"errors": [{"message": f"no route {parts.path}"}]})

    def _suppressions(self, req: BaseHTTPRequestHandler, path: str, q: dict[str, Any]) -> None:
        self.suppression_calls.append(path)
        limit = int(q.get("limit", ["500"])[0])
        offset = int(q.get("offset", ["0"])[0])
        if path.startswith("/v3/asm/groups/") and path.endswith("/suppressions"):
            self._json(req, 200, list(self.suppressions["asm"]))
            return
        kind = path.removeprefix("/v3/suppression/")
        if kind not in ("unsubscribes", "bounces", "spam_reports"):
            self._json(req, 404, {"errors": [{"message": f"no route {path}"}]})
            return
        page = self.suppressions[kind][offset : offset + limit]
        self._json(req, 200, [{"email": e, "created": 1700000000} for e in page])

    def _mail_send(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        try:
            raw = req.rfile.read(length)
            if len(raw) < length:
                return  # the client died mid-request
            body = json.loads(raw)
        except (OSError, ValueError):
            return
        with self.lock:
            failure = self.failures.pop(0) if self.failures else None
            self.requests.append(body)
        if failure is not None and failure.status == 202:
            failure = None  # a placeholder: answer this one normally
        if failure is not None and failure.status == 0:
            self.stop.wait(60)  # hang until the test ends
            return
        if self.latency:
            time.sleep(self.latency)
        if failure is not None:
            self._json(req, failure.status, failure.body, failure.headers)
            return
        errors = validate_mail_send(body)
        if errors:
            with self.lock:
                self.invalid.append(errors)
            self._json(
                req, 400, {"errors": [{"message": e, "field": None, "help": None} for e in errors]}
            )
            return
        if not _still_connected(req.connection):
            with self.lock:
                self.undelivered_requests += 1
            return
        message_id = uuid.uuid4().hex[:22]
        delivered = self._reply_and_confirm(req, 202, b"", {"X-Message-Id": message_id})
        args = body.get("custom_args") or {}
        with self.lock:
            if not delivered:
                self.undelivered_requests += 1
                return
            self.delivered_requests += 1
            for p in body["personalizations"]:
                for t in p["to"]:
                    self.delivered[
                        (str(args.get("issue")), str(args.get("edition")), t["email"])
                    ] += 1

    def _json(
        self,
        req: BaseHTTPRequestHandler,
        status: int,
        data: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(data).encode()
        self._reply_and_confirm(
            req, status, body, {"Content-Type": "application/json", **(headers or {})}
        )

    def _reply_and_confirm(
        self, req: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]
    ) -> bool:
        """Write the answer, then wait for the client's orderly close: True if it got it."""
        req.close_connection = True
        try:
            req.send_response(status)
            for k, v in {
                **headers,
                "Content-Length": str(len(body)),
                "Connection": "close",
            }.items():
                req.send_header(k, v)
            req.end_headers()
            req.wfile.write(body)
            req.wfile.flush()
            sock = req.connection
            sock.settimeout(10)
            # An orderly close (EOF) means the client read the whole answer; a reset means it
            # died with the answer unread.
            return sock.recv(1) == b""
        except (OSError, TimeoutError):
            return False


def _still_connected(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


@contextmanager
def serve_sendgrid(*, latency: float = 0.0, api_key: str = "test") -> Iterator[SendGridStandIn]:
    stand_in = SendGridStandIn(latency=latency, api_key=api_key)
    with serve(stand_in.handle) as url:
        stand_in.url = url
        try:
            yield stand_in
        finally:
            stand_in.stop.set()
