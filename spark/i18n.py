"""Localized strings and dates for the email and the archive (en, fr-CA)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date as _babel_format_date

LOCALES = {"en": "en_CA", "fr": "fr_CA"}

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "read_more": "Read more",
        "also_covered_by": "Also covered by",
        "in_language.en": "in English",
        "in_language.fr": "in French",
        "format.article": "Article",
        "format.report": "Report",
        "format.podcast": "Podcast",
        "format.video": "Video",
        "format.event": "Event",
        "region.national": "Canada-wide",
        "region.international": "International",
        "web_version": "View this issue in your browser",
        "unsubscribe": "Unsubscribe",
        "why_receiving": "You receive Spark because you subscribed to {name}.",
        "contact": "Contact us",
        "archive": "Past issues",
        "subscribe": "Subscribe",
        "issue_of": "{month}",
        "language_name.en": "English",
        "language_name.fr": "French",
        "colon": ": ",
    },
    "fr": {
        "read_more": "Lire la suite",
        "also_covered_by": "Également couvert par",
        "in_language.en": "en anglais",
        "in_language.fr": "en français",
        "format.article": "Article",
        "format.report": "Rapport",
        "format.podcast": "Balado",
        "format.video": "Vidéo",
        "format.event": "Événement",
        "region.national": "Pancanadien",
        "region.international": "International",
        "web_version": "Voir ce numéro dans votre navigateur",
        "unsubscribe": "Se désabonner",
        "why_receiving": "Vous recevez Spark parce que vous êtes abonné·e à {name}.",
        "contact": "Nous joindre",
        "archive": "Numéros précédents",
        "subscribe": "S’abonner",
        "issue_of": "{month}",
        "language_name.en": "anglais",
        "language_name.fr": "français",
        # French typography: a narrow no-break space before the colon.
        "colon": "\u202f: ",
    },
}


def t(language: str, key: str, **values: str) -> str:
    """The message `key` in `language`, falling back to English, then to the key itself."""
    text = MESSAGES.get(language, {}).get(key) or MESSAGES["en"].get(key) or key
    return text.format(**values) if values else text


def format_date(value: date, language: str) -> str:
    """A long date as readers of that language write it: "December 1, 2026", "1er décembre 2026"."""
    text = _babel_format_date(value, format="long", locale=LOCALES.get(language, "en_CA"))
    if language == "fr" and value.day == 1:
        # French writes the first of the month as an ordinal: « 1er décembre ».
        text = text.replace("1 ", "1er ", 1)
    return text


def format_month(year: int, month: int, language: str) -> str:
    """ "December 2026" / "décembre 2026"."""
    return _babel_format_date(
        date(year, month, 1), format="LLLL y", locale=LOCALES.get(language, "en_CA")
    )
