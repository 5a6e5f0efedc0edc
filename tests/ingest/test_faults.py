"""The fault suite: every way a source can misbehave, in one run against a real server.

Each faulty source must be recorded with a plain error, every healthy one fully ingested,
no exception may escape, and memory must stay bounded (no 50 MB body or gzip bomb held).
"""

from __future__ import annotations

import gzip
import resource
import threading
import time
import zlib
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from spark.config import load_settings, load_sources
from spark.ingest import ingest
from spark.store import Store
from tests.ingest.conftest import DATA, NOW, write_sources
from tests.support.feeds import rss
from tests.support.servers import reply, serve

STOP = threading.Event()


@cache
def gzip_bomb() -> bytes:
    """About 100 KB on the wire that inflates to 100 MB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * 1_000_000
    return b"".join(packer.compress(zeros) for _ in range(100)) + packer.flush()


def _feed(name: str) -> bytes:
    return (DATA / name).read_bytes()


GOOD_ITEMS = [
    {"title": f"Healthy story number {n}", "link": f"https://good.example/{n}",
     "guid": f"good-{n}", "pubDate": "Tue, 10 Nov 2026 10:00:00 GMT",
     "description": "<p>A fine summary.</p>"}
    for n in range(5)
]  # fmt: skip


def handler(req: BaseHTTPRequestHandler) -> None:
    path = req.path
    try:
        if path == "/hang":
            STOP.wait(5)  # never answers (bounded so the server can stop)
            return
        if path == "/drip":
            req.send_response(200)
            req.send_header("Content-Type", "application/rss+xml")
            req.send_header("Content-Length", "100000")
            req.end_headers()
            for _ in range(8):
                req.wfile.write(b"<")
                req.wfile.flush()
                if STOP.wait(1):
                    return
            return
        if path in ("/404", "/410", "/500"):
            reply(req, int(path[1:]), b"nope")
            return
        if path == "/503":
            reply(req, 503, b"busy", {"Retry-After": "120"})
            return
        if path.startswith("/loop"):
            target = "/loop-b" if path == "/loop-a" else "/loop-a"
            reply(req, 302, b"", {"Location": target})
            return
        if path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            reply(req, 301, b"", {"Location": f"/chain/{n + 1}"})
            return
        if path == "/html":
            body = b"<!DOCTYPE html><html><head><title>Blog</title></head><body>Hi</body></html>"
            reply(req, 200, body, {"Content-Type": "text/html"})
            return
        if path == "/truncated":
            reply(req, 200, _feed("ontario-research.xml")[:3000], {"Content-Type": "text/xml"})
            return
        if path == "/truncated-early":
            reply(req, 200, _feed("ontario-research.xml")[:400], {"Content-Type": "text/xml"})
            return
        if path == "/wrong-encoding":
            body = rss([{"title": "Élèves et réussite à l'école", "link": "https://enc.example/1"}],
                       encoding="utf-8").encode("latin-1")  # fmt: skip
            reply(req, 200, body, {"Content-Type": "application/rss+xml; charset=utf-8"})
            return
        if path == "/bomb":
            reply(req, 200, gzip_bomb(),
                  {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})  # fmt: skip
            return
        if path in ("/huge", "/huge-unsized"):
            req.send_response(200)
            req.send_header("Content-Type", "application/rss+xml")
            if path == "/huge":
                req.send_header("Content-Length", str(50_000_000))
            else:
                req.send_header("Connection", "close")
            req.end_headers()
            chunk = b"<!-- padding -->" * 4096
            for _ in range(50_000_000 // len(chunk)):
                req.wfile.write(chunk)
            return
        if path == "/no-link-title":
            items = [{"description": "nothing to call it"}, {"title": "Only a title here"},
                     {"link": "https://nolink.example/only-link"}, *GOOD_ITEMS[:1]]  # fmt: skip
            reply(req, 200, rss(items).encode(), {"Content-Type": "application/rss+xml"})
            return
        if path == "/bad-dates":
            items = [{"title": "Dated in the year 3000", "link": "https://dates.example/a",
                      "pubDate": "Fri, 01 Jan 3000 00:00:00 GMT"},
                     {"title": "Dated nonsense", "link": "https://dates.example/b",
                      "pubDate": "the thirty-second of Smarch"}]  # fmt: skip
            reply(req, 200, rss(items).encode(), {"Content-Type": "application/rss+xml"})
            return
        if path == "/bad-links":  # addresses that do not even parse ("Invalid IPv6 URL")
            items = [{"title": "Broken link", "link": "http://[oops/x",
                      "description": '<a href="http://[x/">a</a><img src="https://[::1">'},
                     {"title": "Fine link", "link": "https://links.example/ok"}]  # fmt: skip
            reply(req, 200, rss(items).encode(), {"Content-Type": "application/rss+xml"})
            return
        if path == "/good":
            reply(req, 200, rss(GOOD_ITEMS).encode(), {"Content-Type": "application/rss+xml"})
            return
        if path == "/good-gzip":
            body = gzip.compress(_feed("nb-bilingual.xml"))
            reply(req, 200, body,
                  {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"})  # fmt: skip
            return
        reply(req, 404, b"")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up, as it should


FAULTS = {
    "hang": "/hang", "drip": "/drip", "e404": "/404", "e410": "/410", "e500": "/500",
    "e503": "/503", "loop": "/loop-a", "chain": "/chain/0", "html": "/html",
    "truncated-early": "/truncated-early", "bomb": "/bomb",
    "huge": "/huge", "huge-unsized": "/huge-unsized",
}  # fmt: skip
DEGRADED = {"truncated": "/truncated", "wrong-encoding": "/wrong-encoding",
            "no-link-title": "/no-link-title", "bad-dates": "/bad-dates",
            "bad-links": "/bad-links"}  # fmt: skip
HEALTHY = {"good": "/good", "good-gzip": "/good-gzip"}


@pytest.fixture
def server() -> Iterator[str]:
    STOP.clear()
    gzip_bomb()  # built before the clock starts: it takes longer than the read timeout
    with serve(handler) as base:
        yield base
        STOP.set()


def test_one_run_survives_every_fault(root: Path, server: str) -> None:
    entries = [
        {"id": sid, "name": sid, "url": server + path, "language": "en"}
        for sid, path in {**FAULTS, **DEGRADED, **HEALTHY}.items()
    ]
    write_sources(root, entries)
    settings = load_settings(root)
    sources = load_sources(root / "sources.yaml", settings)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with Store(settings.database_path) as store:
        report = ingest(settings, sources, store, now=NOW)
        states = store.source_states()
        items = store.items()
    elapsed = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024

    by_id = {r.source_id: r for r in report.sources}
    assert {r.source_id for r in report.failed} == set(FAULTS), by_id
    for sid in FAULTS:
        state = states[sid]
        assert state.consecutive_failures == 1, sid
        assert state.last_error and "Traceback" not in state.last_error, sid
        assert state.last_success is None
    expected_words = {
        "hang": "stopped sending", "drip": "stopped sending", "e404": "not found",
        "e410": "gone for good", "e500": "server had an error", "e503": "come back in 2 min",
        "loop": "loop", "chain": "more than 5 redirects", "html": "web page (HTML), not a feed",
        "truncated-early": "broken", "bomb": "larger than the 2 MB limit",
        "huge": "larger than the 2 MB limit", "huge-unsized": "larger than the 2 MB limit",
    }  # fmt: skip
    for sid, words in expected_words.items():
        assert words in (states[sid].last_error or ""), (sid, states[sid].last_error)
    assert states["e503"].retry_after is not None
    assert states["e404"].http_status == 404

    # Degraded feeds: what can be read is stored, and the problem is written down.
    assert by_id["truncated"].status == "warning" and by_id["truncated"].new >= 1
    assert "cut off" in (states["truncated"].last_error or "")
    assert states["truncated"].etag is None  # fetched whole next time
    assert by_id["wrong-encoding"].status == "warning"
    assert "encoding" in (states["wrong-encoding"].last_error or "")
    assert by_id["no-link-title"].new == 3  # title-only, link-only and the good one
    assert "neither a title nor a link" in (states["no-link-title"].last_error or "")
    dated = {i.url: i for i in items if i.source_id == "bad-dates"}
    assert len(dated) == 2 and all(i.published == NOW for i in dated.values())
    assert "dates Spark cannot read" in (states["bad-dates"].last_error or "")
    linked = {i.title: i for i in items if i.source_id == "bad-links"}
    assert linked["Fine link"].url == "https://links.example/ok"
    assert "[" not in linked["Broken link"].url + linked["Broken link"].summary_html

    # Healthy sources are fully ingested in the same run.
    assert by_id["good"].new == len(GOOD_ITEMS) and by_id["good"].status == "ok"
    assert by_id["good-gzip"].new == 6
    assert states["good"].consecutive_failures == 0 and states["good"].last_error is None

    assert elapsed < 30  # a hang would blow far past this; not a speed test
    assert grown_mb < 60, f"peak memory grew by {grown_mb:.0f} MB"


def test_failures_count_up_and_retry_after_is_honoured(root: Path, server: str) -> None:
    hits: list[str] = []

    def counting(req: BaseHTTPRequestHandler) -> None:
        hits.append(req.path)
        handler(req)

    with serve(counting) as base:
        write_sources(root, [{"id": "busy", "name": "Busy", "url": base + "/503"},
                             {"id": "gone", "name": "Gone", "url": base + "/404"}])  # fmt: skip
        settings = load_settings(root)
        sources = load_sources(root / "sources.yaml", settings)
        with Store(settings.database_path) as store:
            ingest(settings, sources, store, now=NOW)
            from datetime import timedelta

            second = ingest(settings, sources, store, now=NOW + timedelta(seconds=60))
            states = store.source_states()
            third = ingest(settings, sources, store, now=NOW + timedelta(seconds=200))
    assert hits.count("/503") == 2  # skipped during the 120 s it asked for, tried after
    assert {r.source_id: r.status for r in second.sources}["busy"] == "waiting"
    assert states["gone"].consecutive_failures == 2
    assert states["busy"].consecutive_failures == 1
    assert {r.source_id: r.status for r in third.sources}["busy"] == "failed"
