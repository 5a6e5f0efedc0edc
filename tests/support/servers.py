"""Real HTTP servers on 127.0.0.1 for tests and benchmarks (feeds, SendGrid stand-ins)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


@contextmanager
def _running(server: _Server) -> Iterator[str]:
    """Serve on a daemon thread until the block ends; yields the base URL."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve(handler: Handler) -> Iterator[str]:
    """Serve `handler(request)` for every request on 127.0.0.1; yields the base URL."""

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            handler(self)

        do_POST = do_GET
        do_HEAD = do_GET
        do_DELETE = do_GET
        do_PUT = do_GET
        do_PATCH = do_GET

    with _running(_Server(("127.0.0.1", 0), RequestHandler)) as url:
        yield url


def reply(
    req: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> None:
    req.send_response(status)
    headers = dict(headers or {})
    headers.setdefault("Content-Length", str(len(body)))
    for k, v in headers.items():
        req.send_header(k, v)
    req.end_headers()
    if body and req.command != "HEAD":
        req.wfile.write(body)


@contextmanager
def serve_directory(root: str) -> Iterator[str]:
    """A static file server for a built site (index.html for directories)."""
    import functools
    from http.server import SimpleHTTPRequestHandler

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    with _running(_Server(("127.0.0.1", 0), functools.partial(Quiet, directory=root))) as url:
        yield url
