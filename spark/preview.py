"""`spark preview`: the email in a desktop and a 375 px frame, and the archive, on 127.0.0.1.

The page polls /__version once a second; when the review file or a template changes the
issue is rendered again (unless it was sent), and when any rendered file or site/ file
changes the page reloads itself.
"""

from __future__ import annotations

import html
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from spark.config import Settings
from spark.errors import SparkError
from spark.render import render_issue

MAX_SITE_FILES = 5000  # bounds the change scan of a large archive


class Preview:
    """What the server shows for one issue; re-renders when its inputs change."""

    def __init__(self, settings: Settings, issue: str) -> None:
        self.settings = settings
        self.issue = issue
        self.issue_dir = settings.issues_dir / issue
        self.error = ""
        self._inputs_seen = -1.0
        self._lock = threading.Lock()

    def _inputs_mtime(self) -> float:
        paths = [self.issue_dir / "review.yaml", self.settings.root / "spark.yaml"]
        templates = self.settings.root / "templates" / "email"
        if templates.is_dir():
            paths.extend(templates.iterdir())
        return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)

    def refresh(self) -> None:
        """Render again when the review file, spark.yaml or a template changed."""
        with self._lock:
            seen = self._inputs_mtime()
            if seen == self._inputs_seen:
                return
            self._inputs_seen = seen
            try:
                render_issue(self.settings, self.issue)
                self.error = ""
            except SparkError as exc:
                self.error = str(exc)

    def version(self) -> str:
        self.refresh()
        stamps = [
            p.stat().st_mtime_ns for p in sorted(self.issue_dir.glob("email.*")) if p.is_file()
        ]
        site = self.settings.site_dir
        if site.is_dir():
            for count, p in enumerate(site.rglob("*")):
                if count >= MAX_SITE_FILES:
                    break
                if p.is_file():
                    stamps.append(p.stat().st_mtime_ns)
        return f"{max(stamps, default=0)}-{len(stamps)}-{hash(self.error)}"

    def index(self, language: str) -> str:
        editions = self.settings.editions
        lang = language if language in editions else editions[0]
        switch = " · ".join(
            f'<a href="/?lang={e}"{" aria-current=page" if e == lang else ""}>{e}</a>'
            for e in editions
        )
        site = ' · <a href="/site/">archive (site/)</a>' if self.settings.site_dir.is_dir() else ""
        error = f'<pre class="err">{html.escape(self.error)}</pre>' if self.error else ""
        src = f"/email/{lang}.html"
        return _PAGE.format(
            issue=html.escape(self.issue), lang=lang, switch=switch, site=site, error=error,
            src=src, version=html.escape(self.version()),
        )  # fmt: skip


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Spark preview {issue} ({lang})</title><style>
body{{font-family:system-ui,sans-serif;margin:16px;background:#eef1f4}}
.frames{{display:flex;gap:24px;align-items:flex-start;flex-wrap:wrap}}
figure{{margin:0}}figcaption{{font-size:13px;color:#555;margin-bottom:4px}}
iframe{{border:1px solid #ccd;background:#fff;height:85vh}}
.err{{background:#fee;border:1px solid #c00;padding:8px;white-space:pre-wrap}}
</style></head><body>
<p><strong>Spark {issue}</strong> — edition: {switch}{site}</p>{error}
<div class="frames">
<figure><figcaption>Desktop (640 px)</figcaption>
<iframe title="Desktop" src="{src}" width="640"></iframe></figure>
<figure><figcaption>Phone (375 px)</figcaption>
<iframe title="Phone" src="{src}" width="375"></iframe></figure>
</div>
<script>
var v = "{version}";
setInterval(function () {{
  fetch("/__version").then(function (r) {{ return r.text(); }}).then(function (t) {{
    if (t !== v) {{ location.reload(); }}
  }}).catch(function () {{}});
}}, 1000);
</script></body></html>"""


def _safe_file(base: Path, relative: str) -> Path | None:
    """`relative` under `base`, or None when it would escape it or does not exist."""
    target = (base / unquote(relative).lstrip("/")).resolve()
    root = base.resolve()
    if target != root and root not in target.parents:
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def make_server(
    settings: Settings, issue: str, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingHTTPServer, Preview]:
    preview = Preview(settings, issue)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the command prints its own address

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            if path == "/":
                lang = parse_qs(parts.query).get("lang", [""])[0]
                page = preview.index(lang)
                self._send(200, page.encode(), "text/html; charset=utf-8")
            elif path == "/__version":
                self._send(200, preview.version().encode(), "text/plain; charset=utf-8")
            elif path.startswith("/email/") and path.endswith(".html"):
                lang = path.removeprefix("/email/").removesuffix(".html")
                file = preview.issue_dir / f"email.{lang}.html"
                if lang in settings.editions and file.is_file():
                    self._send(200, file.read_bytes(), "text/html; charset=utf-8")
                else:
                    message = preview.error or f"the {lang} edition is not rendered"
                    self._send(404, message.encode(), "text/plain; charset=utf-8")
            elif path == "/site" or path.startswith("/site/"):
                found = _safe_file(settings.site_dir, path.removeprefix("/site"))
                if found is None:
                    self._send(404, b"not found", "text/plain; charset=utf-8")
                else:
                    ctype = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
                    if ctype.startswith("text/") or ctype.endswith(("xml", "json")):
                        ctype += "; charset=utf-8"
                    self._send(200, found.read_bytes(), ctype)
            else:
                self._send(404, b"not found", "text/plain; charset=utf-8")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    preview.refresh()
    return server, preview
