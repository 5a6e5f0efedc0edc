"""Small feed builders for tests and benchmarks."""

from __future__ import annotations

from xml.sax.saxutils import escape


def rss(items: list[dict[str, str]], *, title: str = "Test feed", link: str = "https://feed.example/",
        encoding: str = "utf-8", language: str = "en") -> str:  # fmt: skip
    """An RSS 2.0 document; each item's keys become elements (values escaped)."""
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link>",
        f"<language>{language}</language>",
    ]
    for item in items:
        parts.append("<item>")
        for key, value in item.items():
            parts.append(f"<{key}>{escape(value)}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts)
