"""Fixtures of the email tests: the demo settings, the fixed issue, issues of any size."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from spark.config import Settings, load_settings
from spark.models import AlsoCovered, Issue, IssueItem
from spark.review_file import read_issue

DATA = Path(__file__).parent / "data"
REVIEW = DATA / "review.yaml"


@pytest.fixture
def settings(newsletter: Path) -> Settings:
    return load_settings(newsletter)


@pytest.fixture
def issue(settings: Settings) -> Issue:
    return read_issue(REVIEW, settings)


BLURB_EN = (
    "Researchers followed {n} classrooms over two school years to see how structured "
    "literacy routines, small-group tutoring and regular family conversations changed "
    "reading outcomes for students who started behind. The report sets out what worked, "
    "what it cost, and how boards in other provinces could adapt the approach to their "
    "own contexts, including rural and northern schools with few specialists on staff.\n\n"
    "Teachers interviewed for the study describe the **daily fifteen-minute routine** that "
    "made the difference, the assessments they used to group students, and the training "
    "they received. A short guide for school teams and a [data appendix]"
    "(https://research.example.ca/reports/2026/appendix-{n}) accompany the report.\n\n"
    "The authors close with three questions for boards that want to try it: who protects "
    "the fifteen minutes when the timetable is full, how progress is shared with families, "
    "and what support new teachers get in their first term."
)
BLURB_FR = (
    "Des chercheurs ont suivi {n} classes pendant deux années scolaires pour mesurer "
    "l’effet de routines de littératie structurées, du tutorat en petits groupes et de "
    "conversations régulières avec les familles. Le rapport présente ce qui a fonctionné, "
    "ce qu’il en a coûté et comment d’autres conseils scolaires pourraient s’en inspirer.\n\n"
    "Les enseignants interrogés décrivent la **routine quotidienne de quinze minutes** qui "
    "a fait la différence, les évaluations utilisées pour former les groupes et la formation "
    "reçue. Un guide pour les équipes-écoles et une [annexe de données]"
    "(https://research.example.ca/reports/2026/annexe-{n}) accompagnent le rapport.\n\n"
    "Les auteurs terminent par trois questions pour les conseils qui veulent l’essayer : "
    "qui protège les quinze minutes quand l’horaire est chargé, comment les progrès sont "
    "communiqués aux familles et quel soutien reçoivent les nouveaux enseignants."
)


def big_issue(base: Issue, count: int) -> Issue:
    """`base` with `count` picked items of realistic, generous size (image, long blurb)."""
    sections = base.sections
    items = tuple(
        IssueItem(
            id=f"item-{n:03d}",
            title=f"Structured literacy in practice: what {n} classrooms taught us about reading",
            url=f"https://research.example.ca/reports/2026/structured-literacy-{n}",
            source="Canadian Education Research Network",
            date="2026-11-14",
            section=sections[n % len(sections)],
            language="fr" if n % 3 == 0 else "en",
            pick=True,
            region="national",
            format="report",
            blurb={"en": BLURB_EN.format(n=n), "fr": BLURB_FR.format(n=n)},
            image_url=f"https://research.example.ca/images/2026/literacy-{n}.jpg",
            image_alt="Students reading in a classroom",
            also=(
                AlsoCovered("EdCan Network", f"https://edcan.example.ca/story-{n}"),
                AlsoCovered("The Conversation Canada", f"https://theconversation.example/{n}"),
            ),
        )
        for n in range(count)
    )
    return replace(base, items=items)
