"""Editors' blurbs and intros: plain text or a small, safe Markdown subset.

Allowed: paragraphs, line breaks, *emphasis*, **strong**, `code`, lists and links to
http(s) or mailto addresses. Raw HTML is never interpreted (it shows as text), and the
HTML produced is passed through nh3 with the same allowlist, so nothing from an item can
carry a script, an event handler or a `javascript:`/`data:` URL into the email.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
ALLOWED_TAGS = frozenset({"p", "br", "em", "strong", "code", "a", "ul", "ol", "li"})
ALLOWED_ATTRIBUTES = {"a": {"href"}}
# C0 controls other than tab/newline, DEL and C1 controls: never useful in an email.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Raw HTML is dropped rather than shown: an editor never means it, a feed may abuse it.
_TAG = re.compile(r"</?[a-zA-Z!][^>]*>?")
# ... and so is what a script or style element holds.
_SCRIPT_BLOCK = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
# A Markdown link to anything but http(s)/mailto keeps its text and loses its target.
_UNSAFE_LINK = re.compile(
    r"\[([^\]]*)\]\(\s*<?(?!(?:https?|mailto):)(?:[^()]|\([^()]*\))*\)", re.IGNORECASE
)


def safe_url(url: str | None, schemes: frozenset[str] = frozenset({"http", "https"})) -> str | None:
    """`url` when it is an absolute address with an allowed scheme, else None."""
    if not url:
        return None
    url = url.strip()
    if _CONTROL.search(url) or any(c.isspace() for c in url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in schemes:
        return None
    if parts.scheme.lower() == "mailto":
        return url if parts.path else None
    return url if parts.netloc else None


def clean_text(text: str) -> str:
    """One line of plain text: control characters and tag-like markup removed.

    Titles and source names are text; markup in them is a feed's mistake or an attack,
    and removing it keeps the text part as clean as the HTML.
    """
    return " ".join(_strip_markup(_CONTROL.sub(" ", text)).split())


def _strip_markup(text: str) -> str:
    return _TAG.sub("", _SCRIPT_BLOCK.sub("", text))


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt(
        "zero", {"html": False, "linkify": False, "breaks": False, "typographer": False}
    )
    md.enable(["emphasis", "link", "list", "newline", "escape", "backticks", "entity"])
    md.validateLink = lambda url: safe_url(url, SAFE_SCHEMES) is not None  # type: ignore[method-assign]
    return md


def _prepare(source: str) -> str:
    source = _CONTROL.sub(" ", source or "")
    source = _strip_markup(source)
    return _UNSAFE_LINK.sub(r"\1", source).strip()


def to_html(source: str) -> str:
    """Markdown subset -> sanitized HTML fragment (empty for empty input)."""
    return render(source)[0]


def render(source: str) -> tuple[str, str]:
    """Markdown subset -> (sanitized HTML, plain text), parsing the source once."""
    source = _prepare(source)
    if not source:
        return "", ""
    md = _parser()
    tokens = md.parse(source)
    html = _sanitize(md.renderer.render(tokens, md.options, {}))
    return html, _tokens_text(tokens)


def _sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(SAFE_SCHEMES),
        link_rel=None,
        strip_comments=True,
    ).strip()


def to_text(source: str) -> str:
    """Markdown subset -> plain text; a link becomes "text <url>" (unsafe links lose the URL)."""
    return render(source)[1]


def _tokens_text(tokens: list[Token]) -> str:
    blocks: list[str] = []
    line: list[str] = []
    href: list[str | None] = []
    prefix = ""
    for token in tokens:
        if token.type == "list_item_open":
            prefix = "- "
        elif token.type == "inline":
            line = [prefix]
            prefix = ""
            _inline_text(token.children or [], line, href)
            blocks.append("".join(line).strip())
    return "\n".join(b for b in blocks if b)


def _inline_text(children: list[Token], out: list[str], href: list[str | None]) -> None:
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type == "softbreak":
            out.append(" ")  # a wrapped line in the editor's YAML, not a break
        elif child.type == "hardbreak":
            out.append("\n")
        elif child.type == "link_open":
            href.append(safe_url(str(child.attrs.get("href") or ""), SAFE_SCHEMES))
        elif child.type == "link_close":
            url = href.pop() if href else None
            if url:
                out.append(f" <{url.removeprefix('mailto:')}>")
