"""Delivery rules for a rendered email. `spark render` warns; `spark send` refuses.

Pure: a RenderedEmail and the settings in, a list of plain-language failures out.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from spark.config import Settings
from spark.models import RenderedEmail

GMAIL_CLIP_BYTES = 102 * 1024  # Gmail clips messages whose HTML is larger
VAGUE_LINK_TEXT = {
    "click here",
    "here",
    "read more here",
    "this link",
    "link",
    "cliquez ici",
    "ici",
}


def check(email: RenderedEmail, settings: Settings) -> list[str]:
    failures: list[str] = []
    size = len(email.html.encode("utf-8"))
    if size >= GMAIL_CLIP_BYTES:
        failures.append(
            f"the HTML is {size / 1024:.1f} KB; Gmail clips emails over 102 KB — "
            "pick fewer items or shorten blurbs"
        )
    if not email.subject.strip():
        failures.append("the subject is empty — write `subject:` in the review file")
    if re.search(r"[\r\n]", email.subject) or re.search(r"[\r\n]", email.preheader):
        failures.append("the subject or preheader contains a line break — keep it on one line")
    soup = BeautifulSoup(email.html, "lxml")
    html_tag = soup.find("html")
    if html_tag is None or not html_tag.get("lang"):
        failures.append("the document has no `lang` attribute")
    # mjml passes <script> and event handlers through; an edited template must not add them.
    if soup.find(["script", "iframe", "object", "embed", "form"]):
        failures.append("the email contains a script, frame, object or form — remove it")
    if any(name.lower().startswith("on") for tag in soup.find_all(True) for name in tag.attrs):
        failures.append("the email contains an event handler (on...=) — remove it")
    for img in soup.find_all("img"):
        if img.get("alt") is None:
            failures.append(f"an image has no alt text: {str(img.get('src', ''))[:80]}")
    for a in soup.find_all("a"):
        href = str(a.get("href") or "")
        parts = urlsplit(href)
        absolute = (parts.scheme in ("http", "https") and parts.netloc) or parts.scheme == "mailto"
        # ESP merge tags (<%...%>, {{...}}) are filled in at send time.
        if not absolute and not href.startswith(("<%", "{{")):
            failures.append(f"a link is not absolute: {href[:80]!r}")
        if a.get_text(" ", strip=True).lower() in VAGUE_LINK_TEXT:
            failures.append(f"a link says {a.get_text(strip=True)!r}; say where it goes instead")
    footer_needs = {
        "the sender's name": settings.sender_name,
        "the contact": settings.contact,
        "the postal address": settings.postal_address.splitlines()[0]
        if settings.postal_address
        else "",
    }
    text = soup.get_text(" ", strip=True)
    for what, value in footer_needs.items():
        if what == "the contact" and not value:
            continue  # optional in spark.yaml; shown when set
        if not value or value not in text:
            failures.append(f"the footer lacks {what} — set it in spark.yaml")
    if not soup.find("a", {"data-spark": "unsubscribe"}):
        failures.append("the footer has no unsubscribe link")
    for section in soup.find_all(None, {"data-spark-section": True}):
        if not section.find(None, {"data-spark-item": True}):
            failures.append(f"section {section['data-spark-section']!r} is empty")
    return failures
