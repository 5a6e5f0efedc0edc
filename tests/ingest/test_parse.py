"""Parser tests: each input file in data/ has its expected output beside it (*.expected.json).

Regenerate an expectation after a deliberate change with SPARK_REGEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urljoin

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spark.clean import plain_text, resolve_url, sanitize_html, shorten
from spark.models import PageSelectors
from spark.normalize import _full_canonical, canonical_url
from spark.parse import parse_source
from tests.ingest.conftest import DATA, NOW

SELECTORS = PageSelectors(item="li.post", title=".post-title", link="a.more",
                          date="time", summary=".excerpt")  # fmt: skip
CASES = {
    "ontario-research.xml": ("feed", None, "file:///feeds/ontario-research.xml"),
    "edmag-national.xml": ("feed", None, "file:///feeds/edmag-national.xml"),
    "nb-bilingual.xml": ("feed", None, "file:///feeds/nb-bilingual.xml"),
    "listing.html": ("page", SELECTORS, "https://yukon-schools.example.ca/news/"),
}


def _as_json(name: str) -> list[dict[str, object]]:
    kind, selectors, url = CASES[name]
    result = parse_source(kind, selectors, (DATA / name).read_bytes(), {}, url, NOW, 200)
    assert result.error is None
    return [
        {
            "guid": e.guid,
            "url": e.url,
            "canonical_url": e.canonical_url,
            "title": e.title,
            "summary_html": e.summary_html,
            "summary_text": e.summary_text,
            "image_url": e.image_url,
            "author": e.author,
            "published": e.published.isoformat(),
            "enclosures": [list(x) for x in e.enclosures],
            "categories": list(e.categories),
        }
        for e in result.entries
    ]


@pytest.mark.parametrize("name", sorted(CASES))
def test_parsed_entries_match_the_stored_expectation(name: str) -> None:
    expected_path = DATA / (name.rsplit(".", 1)[0] + ".expected.json")
    got = _as_json(name)
    if os.environ.get("SPARK_REGEN") or not expected_path.exists():
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert got == json.loads(expected_path.read_text("utf-8"))


def test_page_source_is_read_with_selectors_and_cleaned() -> None:
    entries = _as_json("listing.html")
    assert [e["title"] for e in entries] == [
        "Land-based learning week",
        "New early-learning classrooms open",
    ]
    assert entries[0]["canonical_url"] == (
        "https://yukon-schools.example.ca/news/land-based-learning-week/"
    )
    assert entries[0]["image_url"] == "https://yukon-schools.example.ca/img/land.jpg"
    assert entries[0]["published"] == "2026-11-02T16:00:00+00:00"
    assert "javascript" not in str(entries[1]) and "onclick" not in str(entries[1])


def test_addresses_that_do_not_parse_are_left_out_not_fatal() -> None:
    page = (b'<base href="http://[bad/"><ul><li class="post"><a class="more" href="http://[x/">'
            b'<span class="post-title">One</span></a><img src="http://[y"></li>'
            b'<li class="post"><a class="more" href="/two"><span class="post-title">Two</span>'
            b"</a></li></ul>")  # fmt: skip
    result = parse_source("page", SELECTORS, page, {}, "https://s.example/news/", NOW, 200)
    assert result.error is None
    assert [(e.title, e.url, e.image_url) for e in result.entries] == [
        ("One", "https://s.example/news/", None),  # no usable link: the page it came from
        ("Two", "https://s.example/two", None),
    ]


def test_html_instead_of_a_feed_is_named_plainly() -> None:
    result = parse_source("feed", None, (DATA / "listing.html").read_bytes(), {}, "", NOW, 200)
    assert result.error is not None and "web page (HTML), not a feed" in result.error


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://News.Example.COM:443/a/?utm_source=x&b=2&a=1#top", "https://news.example.com/a/?a=1&b=2"),
        ("http://x.example/p?fbclid=1&gclid=2&mc_cid=3&mc_eid=4", "http://x.example/p"),
        ("https://x.example", "https://x.example/"),
        ("https://x.example:8443/p?id=7", "https://x.example:8443/p?id=7"),
    ],
)  # fmt: skip
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def _urls(
    schemes: list[str], labels: list[str], ports: list[str], segments: list[str], params: list[str]
) -> st.SearchStrategy[str]:
    return st.builds(
        lambda scheme, labels, port, segments, params, fragment: (
            f"{scheme}://{'.'.join(labels)}{port}"
            + "".join("/" + s for s in segments)
            + ("?" + "&".join(params) if params is not None else "")
            + fragment
        ),
        st.sampled_from(schemes),
        st.lists(st.sampled_from(labels), min_size=1, max_size=3),
        st.sampled_from(ports),
        st.lists(st.sampled_from(segments), max_size=4),
        st.none() | st.lists(st.sampled_from(params), max_size=3),
        st.sampled_from(["", "#top", "#"]),
    )


# Links as feeds give them (mostly canonical already, tracking parameters), and odd ones.
_URLS = _urls(
    ["http", "https"], ["src12", "example", "ca", "a-b"], [""],
    ["", "a", "Research", "2026", "x~y", "a.b", "-"], ["utm_source=rss", "fbclid=1", "id=7", ""],
) | _urls(
    ["http", "https", "HTTPS", "ftp"], ["src12", "WWW", "xn--bcher-kva", "-a", "1", "b_c"],
    ["", ":443", ":80", ":8443"],
    ["", "a", ".", "..", ".hidden", "a b", "r%C3%A9", "%7e", "é", "x~y", "a;b"],
    ["utm_source=rss", "UTM_Medium=x", "id=7", "b=2&a=1", "q=a+b", "utm_", "", "x",
     "pk_campaign=y", "utm%5Fsource=z"],
)  # fmt: skip


@given(_URLS)
def test_canonical_url_shortcut_agrees_with_the_full_treatment(url: str) -> None:
    # Links that are already canonical skip the full treatment: same answer either way.
    assert canonical_url(url) == _full_canonical(url)


def test_summary_cut_at_a_word_boundary() -> None:
    text = "Small-group tutoring three times a week closed most of the Grade 6 math gap"
    short = shorten(text, 30)
    assert len(short) <= 30 and short.endswith("…")
    assert text.startswith(short[:-1]) and text[len(short) - 1] == " "


def test_sanitizer_keeps_structure_and_makes_urls_absolute() -> None:
    html = '<p>See <a href="/r">this</a><img src="i.png" onerror="x()" style="a:b"></p>'
    clean = sanitize_html(html, "https://site.example/blog/post")
    assert clean == (
        '<p>See <a href="https://site.example/r" rel="noopener noreferrer nofollow">this</a>'
        '<img src="https://site.example/blog/i.png"></p>'
    )
    assert plain_text("<p>a</p><p>b &amp; c</p><script>x()</script>") == "a b & c"


@pytest.mark.parametrize(
    ("fragment", "base", "expected"),
    [
        ('<a href="../b?q=1#f">x</a>', "https://a.example/x/y", '<a href="https://a.example/b?q=1#f"'),
        ('<a href="//cdn.example/p">x</a>', "https://a.example/", '<a href="https://cdn.example/p"'),
        ('<a href=" /sp">x</a>', "https://a.example/x", '<a href="https://a.example/sp"'),
        ('<a href="/r">x</a>', "", "<a rel="),  # nothing to resolve against: dropped
        ('<q cite="javascript:alert(1)">q</q>', "https://a.example/", "<q>q</q>"),
        ('<a href="jav&#x09;ascript:alert(1)">x</a>', "https://a.example/", "<a rel="),
        ('<img src="data:image/png;base64,AAAA">', "https://a.example/", "<img>"),
        ('<a href="mailto:info@a.example">m</a>', "", '<a href="mailto:info@a.example"'),
    ],
)  # fmt: skip
def test_sanitizer_resolves_or_drops_every_url(fragment: str, base: str, expected: str) -> None:
    assert sanitize_html(fragment, base).startswith(expected)


_BASES = st.sampled_from(
    ["https://a.example/x/y?q=1", "HTTP://A.Example:8080/", "https://u@a.example", "https://a.example",
     "http://a.example#f", "https://[::1]/x", "file:///feeds/x.xml", "https://a.example/x y", ""]
)  # fmt: skip
_RELATIVE = st.lists(
    st.sampled_from(
        ["/", "//", "img", "1.jpg", ".", "..", "./", "a b", "%2F", "\\", "?q=1", "#f", "é"]
    ),
    max_size=5,
).map("".join) | st.builds(
    lambda segments, rest: "/" + "/".join(segments) + rest,  # paths from the site's root
    st.lists(st.sampled_from(["img", "1.jpg", "a-b", "%2F", ".", "..", "a.b", ""]), max_size=3),
    st.sampled_from(["", "?q=1", "#f", "?a=/./b", "?q=a\tb", "#f\nx", "?\r"]),
)


@given(_BASES, _RELATIVE)
def test_relative_urls_resolve_as_urljoin_does(base: str, url: str) -> None:
    # Same-site paths skip urljoin's parsing: the answer must not change.
    assert resolve_url(base, url) == urljoin(base, url)


def test_plain_text_keeps_punctuation_against_the_word() -> None:
    html = "<p><b>Grade 6</b>, <i>math</i>.</p>\n<p>(see <a href='x'>here</a>)</p>&nbsp;end"
    assert plain_text(html) == "Grade 6, math. (see here) end"


_HTML_BITS = st.sampled_from(
    ["<p>", "</p>", "<b>", "</b>", "<a href='/x?a=1&b=2'>", "</a>", "<br>", "<img alt='a > b'>",
     '<q title="&quot;>">', "&amp;", "&lt;b&gt;", "&amp;lt;i&amp;gt;", " ", ".", ",", ")", "(",
     "word", "mot é", "<script>x()</script>", "<!-- c -->", "<td>", "\n", "'", '"', ">", "<"]
)  # fmt: skip


@given(st.lists(_HTML_BITS, max_size=30).map("".join))
def test_text_of_sanitized_html_reads_the_same_by_pattern(fragment: str) -> None:
    clean = sanitize_html(fragment, "https://a.example/")
    assert plain_text(clean, sanitized=True) == plain_text(clean)
