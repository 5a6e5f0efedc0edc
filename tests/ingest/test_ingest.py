"""Whole runs against real loopback servers: hostile content, conditional re-runs, the same
story from two sources, remembered redirects, and the two commands."""

from __future__ import annotations

import os
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from click.testing import CliRunner

from spark.cli import cli
from spark.config import load_settings, load_sources
from spark.ingest import ingest
from spark.parse import POOL_MIN_SOURCES, parse_executor
from spark.store import Store
from tests.ingest.conftest import DATA, NOW, write_sources
from tests.support.feeds import rss
from tests.support.processes import spawn, wait_for
from tests.support.servers import reply, serve

HOSTILE = [
    {"title": 'Budget <script>alert("t")</script> news <img src=x onerror="alert(1)">',
     "link": "https://hostile.example/1", "guid": "h1",
     "description": '<p onmouseover="steal()">Read <a href="javascript:alert(1)">this</a>'
                    '<a href="JaVaScRiPt:alert(2)">too</a><img src="data:image/png;base64,AAAA">'
                    '<iframe src="https://evil.example/"></iframe>'
                    '<div style="width: expression(alert(3))">css</div>'
                    '<style>body{background:url(javascript:alert(4))}</style>'
                    '<form action="https://evil.example/"><input name=p></form>'
                    '<svg onload="alert(5)"></svg><object data="x.swf"></object></p>'},
    {"title": "Second &lt;script&gt;alert(6)&lt;/script&gt; item",
     "link": "javascript:alert(7)", "guid": "https://hostile.example/2",
     "description": '<a href="data:text/html,&lt;script&gt;alert(8)&lt;/script&gt;">x</a>'
                    '<img src="https://hostile.example/i.png" onerror=alert(9)>'
                    '<p style="background:url(&quot;javascript:alert(10)&quot;)">bg</p>'},
]  # fmt: skip
FORBIDDEN = ("<script", "javascript:", "onerror", "onmouseover", "onload", "data:",
             "<iframe", "expression(", "<style", "style=", "<form", "<input", "<svg",
             "<object", "alert(")  # fmt: skip


def _run(root: Path, now: object = NOW) -> tuple[object, dict[str, object]]:
    settings = load_settings(root)
    sources = load_sources(root / "sources.yaml", settings)
    with Store(settings.database_path) as store:
        report = ingest(settings, sources, store, now=now)  # type: ignore[arg-type]
        return report, {"states": store.source_states(), "items": store.items()}


def test_hostile_content_never_reaches_the_store(root: Path) -> None:
    body = rss(HOSTILE).encode()
    with serve(lambda req: reply(req, 200, body, {"Content-Type": "application/rss+xml"})) as base:
        write_sources(
            root, [{"id": "hostile", "name": "H", "url": base + "/feed", "language": "en"}]
        )
        _report, data = _run(root)
    items = data["items"]
    assert len(items) == 2  # type: ignore[arg-type]
    db = sqlite3.connect(load_settings(root).database_path)
    dump = "\n".join(str(row) for row in db.execute("SELECT * FROM items")).lower()
    db.close()
    for bad in FORBIDDEN:
        assert bad not in dump, bad
    titles = sorted(i.title for i in items)  # type: ignore[attr-defined]
    assert titles == ["Budget news", "Second item"]


def test_second_run_is_conditional_and_stores_nothing_new(root: Path) -> None:
    seen: list[dict[str, str]] = []
    body = (DATA / "ontario-research.xml").read_bytes()

    def handler(req: BaseHTTPRequestHandler) -> None:
        seen.append({k.lower(): v for k, v in req.headers.items()})
        if req.path == "/etag":
            if req.headers.get("If-None-Match") == '"v1"':
                reply(req, 304, b"", {"ETag": '"v1"'})
            else:
                reply(req, 200, body, {"ETag": '"v1"', "Content-Type": "application/rss+xml"})
        else:
            stamp = "Tue, 17 Nov 2026 10:00:00 GMT"
            if req.headers.get("If-Modified-Since") == stamp:
                reply(req, 304, b"")
            else:
                feed = rss([{"title": "Only item of the feed", "link": "https://lm.example/1"}])
                reply(req, 200, feed.encode(), {"Last-Modified": stamp})

    with serve(handler) as base:
        write_sources(
            root,
            [
                {"id": "etag", "name": "E", "url": base + "/etag", "language": "en"},
                {"id": "lm", "name": "L", "url": base + "/lm", "language": "en"},
            ],
        )
        first, data1 = _run(root)
        second, data2 = _run(root, NOW + timedelta(hours=6))
    assert first.new == 8  # type: ignore[attr-defined]
    assert second.new == 0 and second.updated == 0  # type: ignore[attr-defined]
    assert {s.status for s in second.sources} == {"not modified"}  # type: ignore[attr-defined]
    assert len(data2["items"]) == len(data1["items"])  # type: ignore[arg-type]
    later = seen[2:]
    assert any(h.get("if-none-match") == '"v1"' for h in later)
    assert any(h.get("if-modified-since") == "Tue, 17 Nov 2026 10:00:00 GMT" for h in later)
    assert all(h.get("user-agent", "").startswith("Spark") for h in seen)
    states = data2["states"]
    assert states["etag"].last_success == NOW + timedelta(hours=6)  # type: ignore[index]


def test_same_story_with_different_tracking_is_one_candidate(root: Path) -> None:
    story = "https://research.example.org/2026/11/tutoring-closes-gap"
    a = rss([{"title": "Tutoring closes the Grade 6 math gap in Ontario trial",
              "link": story + "?utm_source=rss&utm_medium=feed", "guid": "a-1",
              "pubDate": "Thu, 05 Nov 2026 15:00:00 GMT"}])  # fmt: skip
    b = rss([{"title": "Ontario trial: tutoring closes the Grade 6 math gap!",
              "link": story.replace("research.example.org", "RESEARCH.example.org")
              + "?fbclid=IwAR2xK9&utm_campaign=nov#comments",
              "guid": "b-1", "pubDate": "Fri, 06 Nov 2026 09:00:00 GMT"},
             {"title": "A different story altogether about school libraries today",
              "link": "https://other.example/libraries"}])  # fmt: skip
    # A third source retells it under a near-identical title but its own URL, two days later.
    c = rss([{"title": "Tutoring closes the Grade 6 math gap in Ontario trial",
              "link": "https://magazine.example/tutoring",
              "pubDate": "Sat, 07 Nov 2026 09:00:00 GMT"}])  # fmt: skip
    feeds = {"/a": a.encode(), "/b": b.encode(), "/c": c.encode()}
    with serve(lambda req: reply(req, 200, feeds[req.path])) as base:
        write_sources(
            root,
            [
                {"id": "src-b", "name": "B", "url": base + "/b", "language": "en"},
                {"id": "src-a", "name": "A", "url": base + "/a", "language": "en"},
                {"id": "src-c", "name": "C", "url": base + "/c", "language": "en"},
            ],
        )
        _report, data = _run(root)
    items = {i.source_id + ":" + i.title[:10]: i for i in data["items"]}  # type: ignore[attr-defined]
    first = items["src-a:Tutoring c"]
    assert first.duplicate_of is None  # published first: the original
    assert items["src-b:Ontario tr"].duplicate_of == first.id
    assert items["src-c:Tutoring c"].duplicate_of == first.id
    assert items["src-b:A differen"].duplicate_of is None
    assert first.id.startswith("src-a-") and len(first.id) == len("src-a-") + 10


def test_demo_feeds_share_a_story(root: Path) -> None:
    feeds = {"/on": (DATA / "ontario-research.xml").read_bytes(),
             "/mag": (DATA / "edmag-national.xml").read_bytes()}  # fmt: skip
    with serve(lambda req: reply(req, 200, feeds[req.path])) as base:
        write_sources(root, [{"id": "ontario-research", "name": "O", "url": base + "/on"},
                             {"id": "edmag-national", "name": "M", "url": base + "/mag",
                              "exclude": ["sponsored"]}])  # fmt: skip
        report, data = _run(root)
    dupes = [i for i in data["items"] if i.duplicate_of]  # type: ignore[attr-defined]
    assert len(dupes) == 1 and dupes[0].source_id == "edmag-national"
    assert dupes[0].duplicate_of.startswith("ontario-research-")
    filtered = {r.source_id: r.filtered for r in report.sources}  # type: ignore[attr-defined]
    assert filtered["edmag-national"] == 1


def test_permanent_redirect_is_remembered(root: Path) -> None:
    paths: list[str] = []
    body = rss([{"title": "Moved feed item one", "link": "https://moved.example/1"}]).encode()

    def handler(req: BaseHTTPRequestHandler) -> None:
        paths.append(req.path)
        if req.path == "/old":
            reply(req, 301, b"", {"Location": "/new"})
        else:
            reply(req, 200, body)

    with serve(handler) as base:
        write_sources(root, [{"id": "moved", "name": "M", "url": base + "/old", "language": "en"}])
        _r, data = _run(root)
        _r2, _data2 = _run(root, NOW + timedelta(hours=1))
    assert data["states"]["moved"].url == base + "/new"  # type: ignore[index]
    assert paths == ["/old", "/new", "/new"]


def test_cli_ingest_and_status(root: Path) -> None:
    good = rss([{"title": "A working feed item", "link": "https://ok.example/1"}]).encode()
    with serve(lambda req: reply(req, 200, good) if req.path == "/ok" else reply(req, 404)) as base:
        write_sources(
            root,
            [
                {"id": "fine", "name": "Fine", "url": base + "/ok", "language": "en"},
                {"id": "zz-broken", "name": "Broken", "url": base + "/missing"},
            ],
        )
        runner = CliRunner()
        result = runner.invoke(cli, ["--root", str(root), "ingest"])
        assert result.exit_code == 1, result.output
        assert "zz-broken" in result.output and "failed" in result.output
        only = runner.invoke(cli, ["--root", str(root), "ingest", "--only", "fine"])
        assert only.exit_code == 0, only.output
        unknown = runner.invoke(cli, ["--root", str(root), "ingest", "--only", "nope"])
        assert unknown.exit_code == 2 and "no source with id 'nope'" in unknown.output
    status = CliRunner().invoke(cli, ["--root", str(root), "status"], terminal_width=200)
    assert status.exit_code == 0, status.output
    lines = [line for line in status.output.splitlines() if "zz-broken" in line or "fine" in line]
    assert "zz-broken" in lines[0] and "broken" in lines[0] and "404" in lines[0]


def test_a_run_cut_short_keeps_finished_sources_and_the_next_run_checks_them(
    root: Path, tmp_path: Path
) -> None:
    # A run is killed while one source still hangs: the source that answered is saved, its
    # new item waiting for the cross-source check; the next run does that check.
    (root / "spark.yaml").write_text(
        "name: Spark test\ningest:\n  read_timeout: 60\n  deadline: 60\n", encoding="utf-8"
    )
    story = "https://research.example.org/2026/11/tutoring"
    a = rss([{"title": "Tutoring closes the Grade 6 math gap in Ontario trial", "link": story,
              "guid": "a-1", "pubDate": "Thu, 05 Nov 2026 15:00:00 GMT"}])  # fmt: skip
    b = rss(
        [
            {
                "title": "Ontario trial: tutoring closes the Grade 6 math gap",
                "guid": "b-1",
                "link": story + "?utm_source=b",
                "pubDate": "Fri, 06 Nov 2026 09:00:00 GMT",
            }
        ]
    )
    answer_b = threading.Event()

    def handler(req: BaseHTTPRequestHandler) -> None:
        if req.path == "/b" and not answer_b.wait(30):
            return
        reply(req, 200, (a if req.path == "/a" else b).encode())

    database = load_settings(root).database_path

    def saved_items() -> int:
        if not database.exists():
            return 0
        db = sqlite3.connect(database)
        try:
            return int(db.execute("SELECT COUNT(*) FROM items").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet
            return 0
        finally:
            db.close()

    with serve(handler) as base:
        write_sources(
            root,
            [
                {"id": "src-a", "name": "A", "url": base + "/a", "language": "en"},
                {"id": "src-b", "name": "B", "url": base + "/b", "language": "en"},
            ],
        )
        run = spawn(["-m", "spark", "--root", str(root), "ingest"], tmp_path / "ingest.log")
        try:
            wait_for(lambda: saved_items() == 1, "source A to be saved")
        finally:
            run.kill()
            run.wait()
        with Store(database) as store:
            (waiting,) = store.pending_item_keys()
            assert waiting.source_id == "src-a" and store.source_state("src-b").last_fetch is None
            assert store.review_candidate_keys(None) == []  # not offered before it is checked
        answer_b.set()
        report, data = _run(root)
    items = {i.source_id: i for i in data["items"]}  # type: ignore[attr-defined]
    assert items["src-a"].duplicate_of is None and items["src-b"].duplicate_of == items["src-a"].id
    assert [(r.source_id, r.new, r.duplicates) for r in report.sources] == [  # type: ignore[attr-defined]
        ("src-a", 0, 0),
        ("src-b", 1, 1),
    ]
    with Store(database) as store:
        assert store.pending_item_keys() == []
        assert [k.id for k in store.review_candidate_keys(None)] == [items["src-a"].id]


def test_a_run_big_enough_for_parse_workers_stores_every_source(root: Path) -> None:
    feeds = {
        f"/f{n}": rss([{"title": f"Story {n} about reading programs in rural schools",
                        "link": f"https://s{n}.example/story"}]).encode()
        for n in range(POOL_MIN_SOURCES)
    }  # fmt: skip
    with serve(lambda req: reply(req, 200, feeds[req.path])) as base:
        write_sources(root, [{"id": f"s{n}", "name": f"S{n}", "url": f"{base}/f{n}",
                              "language": "en"} for n in range(POOL_MIN_SOURCES)])  # fmt: skip
        report, data = _run(root)
    assert [r.new for r in report.sources] == [1] * POOL_MIN_SOURCES  # type: ignore[attr-defined]
    assert len(data["items"]) == POOL_MIN_SOURCES  # type: ignore[arg-type]


def test_parse_workers_come_from_the_fork_server() -> None:
    pool = parse_executor(POOL_MIN_SOURCES)
    try:
        assert isinstance(pool, ProcessPoolExecutor)
        parents = {pool.submit(os.getppid).result(timeout=60) for _ in range(4)}
    finally:
        pool.shutdown()
    assert os.getpid() not in parents  # forked by the server, not spawned by this process
