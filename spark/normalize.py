"""Canonical URLs: one spelling per story, so the same link from two sources is one item."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only say where a click came from; they never change the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id",
        "oly_enc_id", "vero_id", "rb_clickid", "s_cid", "ref_src", "cmpid",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "at_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Most feed links are already in canonical form once their tracking parameters are gone:
# lower-case http(s) host, no port, a path of unreserved characters without dot segments.
# For those the full treatment (two URL parses and w3lib's) would return them unchanged.
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_SIMPLE = re.compile(
    rf"(https?://(?:{_LABEL}\.)*{_LABEL})(/[A-Za-z0-9._~/-]*)?(?:\?([^#]*))?(?:#.*)?", re.ASCII
)


def is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters,
    remaining parameters sorted. Anything that is not http(s) comes back stripped only."""
    url = url.strip()
    simple = _simple_canonical(url)
    return simple if simple is not None else _full_canonical(url)


def _full_canonical(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if ":" in host:  # an IPv6 literal keeps its brackets
        netloc = f"[{host}]" if port in (None, _DEFAULT_PORTS[scheme]) else f"[{host}]:{port}"
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)]
    )
    cleaned = urlunsplit((scheme, netloc, parts.path or "/", query, ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def _simple_canonical(url: str) -> str | None:
    """The canonical form of a link that needs no more than its tracking parameters and
    fragment dropped, or None when it needs the full treatment."""
    match = _SIMPLE.fullmatch(url)
    if match is None:
        return None
    origin, path, query = match.groups()
    if path is None:
        path = "/"
    elif "/." in path:
        return None  # dot segments ("/../") or hidden names: let w3lib decide
    if query and not all(is_tracking(p.partition("=")[0]) for p in query.split("&")):
        return None
    return origin + path
