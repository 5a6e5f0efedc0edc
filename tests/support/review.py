"""Building stored items and newsletter directories for the review tests and benchmark."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from spark.models import Item

SPARK_YAML = """\
name: Spark
editions: [{editions}]
default_language: en
timezone: America/Toronto
themes:
  literacy: 1.0
  numeracy: 1.0
  mental health: 1.0
  indigenous: 1.2
  littératie: 1.0
  autochtone: 1.2
review:
  max_undecided: {cap}
"""

SOURCES_YAML = """\
sources:
  - id: edcan
    name: EdCan Network
    url: https://www.edcan.ca/feed/
    region: national
  - id: ontario-research
    name: Ontario Research Digest
    url: https://research.example.on.ca/feed.xml
    region: ON
  - id: quebec-ecoles
    name: Écoles du Québec
    url: https://ecoles.example.qc.ca/feed.xml
    language: fr
    region: QC
  - id: bc-teaching
    name: BC Teaching Podcast
    url: https://bc.example.ca/podcast.xml
    region: BC
"""

SOURCES = (
    ("edcan", "en", "national"),
    ("ontario-research", "en", "ON"),
    ("quebec-ecoles", "fr", "QC"),
    ("bc-teaching", "en", "BC"),
)
SECTIONS = ("research", "practices", "ideas")
WORDS_EN = tuple(
    [
        "literacy",
        "numeracy",
        "school",
        "teachers",
        "students",
        "mental",
        "health",
        "indigenous",
        "classroom",
    ]
)
WORDS_FR = tuple(
    ["littératie", "école", "élèves", "enseignants", "autochtone", "réussite", "classe", "santé"]
)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make_newsletter(root: Path, *, editions: str = "en, fr", cap: int = 60) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "spark.yaml").write_text(SPARK_YAML.format(editions=editions, cap=cap), "utf-8")
    (root / "sources.yaml").write_text(SOURCES_YAML, "utf-8")
    return root


def make_item(
    n: int,
    *,
    source: int | None = None,
    first_seen: datetime = NOW,
    age_days: float | None = None,
    prefix: str = "item",
    rng: random.Random | None = None,
    duplicate_of: str | None = None,
    summary_words: int = 30,
) -> Item:
    rng = rng or random.Random(n)
    source_id, language, region = SOURCES[n % len(SOURCES) if source is None else source]
    words = WORDS_FR if language == "fr" else WORDS_EN
    title = " ".join(rng.choice(words) for _ in range(6)).capitalize() + f" {n}"
    summary = " ".join(rng.choice(words) for _ in range(summary_words)) + "."
    published = first_seen - timedelta(days=rng.uniform(0, 20) if age_days is None else age_days)
    return Item(
        id=f"{source_id}-{prefix}-{n:06d}",
        source_id=source_id,
        guid=None,
        url=f"https://{source_id}.example.org/{prefix}/{n}",
        canonical_url=f"https://{source_id}.example.org/{prefix}/{n}",
        title=title,
        summary_html=f"<p>{summary}</p>",
        summary_text=summary,
        image_url=None,
        author=None,
        published=published,
        first_seen=first_seen,
        language=language,
        format="report" if n % 5 == 0 else "article",
        section=SECTIONS[n % 3],
        region=region,
        duplicate_of=duplicate_of,
        content_hash=f"h{n}",
    )
