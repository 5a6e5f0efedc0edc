"""Fetching one source: bounded in time and size, conditional, polite, never hanging.

Every failure becomes a `FetchError` whose message is written for an editor ("the server
did not answer within 10 s"), never a traceback. `file://` URLs are read from disk (the
demo, tests), with the file's mtime and size standing in for an ETag.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ssl
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from spark.config import IngestSettings
from spark.errors import FetchError
from spark.models import Source, SourceState

_REDIRECTS = (301, 302, 303, 307, 308)
_PERMANENT = (301, 308)
_MAX_RETRY_AFTER = 7 * 24 * 3600.0
_DEFAULT_429_WAIT = 3600.0
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.7, */*;q=0.5"
)


@dataclass(frozen=True)
class Fetched:
    """A successful answer: fresh content (200) or "not modified" (304)."""

    status: int
    content: bytes
    headers: dict[str, str]  # lower-case names
    url: str  # where the content finally came from
    permanent_url: str | None = None  # the source moved for good: fetch this next time
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _Decoder(Protocol):
    def feed(self, chunk: bytes, room: int) -> bytes: ...


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's own verifying context (certifi's CAs, SSL_CERT_FILE/DIR honoured), built once
    per process: reading the CA bundle takes longer than a run's first answers."""
    return httpx.create_ssl_context()


def make_client(
    settings: IngestSettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """One client for a whole run: pooled connections, our timeouts, our User-Agent."""
    return httpx.AsyncClient(
        transport=transport,
        verify=_tls_context(),
        timeout=httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.deadline,
        ),
        limits=httpx.Limits(
            max_connections=settings.concurrency,
            # Sources rarely share a host, and httpcore's pool scans every idle connection
            # for each request it places (quadratic in the idle ones): keep only a few.
            max_keepalive_connections=min(8, settings.concurrency),
        ),
        headers={
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            # Only what we decode ourselves, with a size cap on the decoded bytes.
            "Accept-Encoding": "gzip, deflate",
        },
        follow_redirects=False,
    )


async def fetch_source(
    client: httpx.AsyncClient,
    source: Source,
    state: SourceState,
    settings: IngestSettings,
    *,
    now: datetime,
) -> Fetched:
    """Fetch a source within its total deadline; raises FetchError with plain words."""
    url = state.url or source.url
    if url.startswith("file:"):
        return _read_file(source.id, url, state, settings)
    try:
        async with asyncio.timeout(settings.deadline):
            return await _fetch_http(client, source.id, url, state, settings, now)
    except TimeoutError as exc:
        raise FetchError(
            source.id,
            f"gave up after {settings.deadline:g} s: the server is too slow to send the feed",
        ) from exc


async def _fetch_http(
    client: httpx.AsyncClient,
    source_id: str,
    url: str,
    state: SourceState,
    settings: IngestSettings,
    now: datetime,
) -> Fetched:
    headers: dict[str, str] = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    permanent = True
    seen = {url}
    for _hop in range(settings.max_redirects + 1):
        try:
            async with client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status in _REDIRECTS and "location" in response.headers:
                    permanent = permanent and status in _PERMANENT
                    target = urljoin(url, response.headers["location"])
                    if target in seen:
                        raise FetchError(
                            source_id,
                            f"the address redirects in a loop (HTTP {status} back to {target})",
                            status=status,
                        )
                    seen.add(target)
                    url = target
                    continue
                if status == 304:
                    return _answer(response, url, b"", len(seen) > 1 and permanent)
                if 200 <= status < 300:
                    body = await _read_body(response, source_id, settings.max_bytes)
                    return _answer(response, url, body, len(seen) > 1 and permanent)
                raise _status_error(source_id, status, response.headers, now)
        except FetchError:
            raise
        except httpx.ConnectTimeout as exc:
            raise FetchError(
                source_id, f"could not connect within {settings.connect_timeout:g} s"
            ) from exc
        except httpx.ReadTimeout as exc:
            raise FetchError(
                source_id,
                f"the server stopped sending for more than {settings.read_timeout:g} s",
            ) from exc
        except httpx.TimeoutException as exc:
            raise FetchError(source_id, "the connection timed out") from exc
        except httpx.ConnectError as exc:
            raise FetchError(source_id, f"could not connect to the server ({exc})") from exc
        except httpx.RemoteProtocolError as exc:
            raise FetchError(
                source_id, f"the server broke off or answered garbage ({exc})"
            ) from exc
        except httpx.InvalidURL as exc:
            raise FetchError(source_id, f"the address {url!r} is not valid ({exc})") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise FetchError(source_id, f"network error: {exc or type(exc).__name__}") from exc
    raise FetchError(
        source_id,
        f"more than {settings.max_redirects} redirects; the address keeps moving "
        "(open it in a browser and put the final address in sources.yaml)",
    )


def _answer(response: httpx.Response, url: str, body: bytes, moved: bool) -> Fetched:
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Fetched(
        status=response.status_code,
        content=body,
        headers=headers,
        url=url,
        permanent_url=url if moved else None,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
    )


async def _read_body(response: httpx.Response, source_id: str, cap: int) -> bytes:
    """Stream the body, stopping at `cap` bytes on the wire AND after decompression."""
    too_big = FetchError(
        source_id,
        f"the feed is larger than the {cap / 1_000_000:g} MB limit "
        "(ingest.max_bytes in spark.yaml); it was not read",
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise too_big
    decoder = _decoder(response.headers.get("content-encoding", ""), source_id)
    out = bytearray()
    wire = 0
    async for chunk in response.aiter_raw():
        wire += len(chunk)
        if wire > cap:
            raise too_big
        data = decoder.feed(chunk, cap - len(out) + 1) if decoder else chunk
        out += data
        if len(out) > cap:
            raise too_big
    return bytes(out)


class _Zlib:
    def __init__(self, wbits: int, source_id: str) -> None:
        self.obj = zlib.decompressobj(wbits)
        self.source_id = source_id
        self.first = True

    def feed(self, chunk: bytes, room: int) -> bytes:
        try:
            # max_length keeps a decompression bomb from inflating past the cap in one call.
            data = self.obj.decompress(chunk, room)
            while self.obj.unconsumed_tail and len(data) < room:
                data += self.obj.decompress(self.obj.unconsumed_tail, room - len(data))
            if self.obj.unconsumed_tail:
                data += b"\0"  # more to come than room: signals the cap to the caller
        except zlib.error as exc:
            raise FetchError(self.source_id, f"the compressed answer is corrupt ({exc})") from exc
        return data


def _decoder(encoding: str, source_id: str) -> _Zlib | None:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return _Zlib(16 + zlib.MAX_WBITS, source_id)
    if encoding == "deflate":
        return _Zlib(zlib.MAX_WBITS | 32, source_id)  # zlib or gzip header, auto-detected
    raise FetchError(source_id, f"the server used an unsupported compression ({encoding!r})")


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from now: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - now).total_seconds(), _MAX_RETRY_AFTER))


def _status_error(source_id: str, status: int, headers: httpx.Headers, now: datetime) -> FetchError:
    wait = retry_after_seconds(headers.get("retry-after"), now)
    if status == 429:
        wait = wait if wait is not None else _DEFAULT_429_WAIT
        return FetchError(
            source_id,
            f"the server asks us to slow down (HTTP 429); skipped for {_duration(wait)}",
            status=status,
            retry_after=wait,
        )
    if status == 503 and wait is not None:
        return FetchError(
            source_id,
            f"the server is unavailable (HTTP 503) and asks us to come back in {_duration(wait)}",
            status=status,
            retry_after=wait,
        )
    messages = {
        401: "the server asks for a password (HTTP 401); this feed is not public",
        403: "the server refuses access (HTTP 403); the site may block feed readers",
        404: "the address was not found (HTTP 404); check the url in sources.yaml",
        410: "the feed is gone for good (HTTP 410); remove the source or find its new address",
    }
    if status in messages:
        return FetchError(source_id, messages[status], status=status)
    if status >= 500:
        return FetchError(
            source_id,
            f"the server had an error (HTTP {status}); it will be tried again next run",
            status=status,
        )
    return FetchError(
        source_id, f"unexpected answer from the server (HTTP {status})", status=status
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _read_file(source_id: str, url: str, state: SourceState, settings: IngestSettings) -> Fetched:
    path = Path(url2pathname(urlsplit(url).path))
    try:
        stat = path.stat()
        validator = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        if state.etag == validator:
            return Fetched(304, b"", {}, url, etag=validator)
        if stat.st_size > settings.max_bytes:
            raise FetchError(
                source_id,
                f"the file is larger than the {settings.max_bytes / 1_000_000:g} MB limit",
            )
        content = path.read_bytes()
    except FileNotFoundError as exc:
        raise FetchError(source_id, f"the file {path} does not exist") from exc
    except OSError as exc:
        raise FetchError(source_id, f"cannot read the file {path}: {exc.strerror}") from exc
    return Fetched(200, content, {}, url, etag=validator)
