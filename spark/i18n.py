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
        # The archive website.
        "site.skip": "Skip to content",
        "site.issues": "Issues",
        "site.all_items": "All items",
        "site.search": "Search",
        "site.search_label": "Search every issue",
        "site.search_button": "Search",
        "site.search_nojs": "Search needs JavaScript. Every item is also listed on the items page.",
        "site.search_none": "No results for “{query}”.",
        "site.search_count": "{count} results for “{query}”.",
        "site.search_loading": "Searching…",
        "site.subscribe_pitch": "Get Spark in your inbox every month.",
        "site.feed": "Atom feed",
        "site.native_name": "English",
        "site.other_edition": "This issue in French",
        "site.index_title": "Past issues",
        "site.index_intro": "Every issue of {name}, newest first.",
        "site.no_issues": "No issue has been published yet.",
        "site.read_issue": "Read the {month} issue",
        "site.in_this_issue": "In this issue",
        "site.items_title": "Every item",
        "site.items_intro": "All {count} items published in {name}, newest first.",
        "site.filters": "Filter items",
        "site.filter.section": "Section",
        "site.filter.region": "Region",
        "site.filter.language": "Language",
        "site.filter.format": "Format",
        "site.filter.tag": "Tag",
        "site.filter.any": "Any",
        "site.filter.reset": "Show all",
        "site.filter.count": "{count} of {total} items shown.",
        "site.from_issue": "From the {month} issue",
        "site.permalink": "Link to this item",
        "site.published": "Published {date}",
        "site.tags": "Tags",
        "site.source": "Source",
        "site.back_to_index": "All issues",
        "site.breadcrumb": "Breadcrumb",
        "site.main_nav": "Main",
        "site.footer_about": "{name} is published by {organization}.",
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
        "site.skip": "Aller au contenu",
        "site.issues": "Numéros",
        "site.all_items": "Tous les articles",
        "site.search": "Recherche",
        "site.search_label": "Chercher dans tous les numéros",
        "site.search_button": "Chercher",
        "site.search_nojs": (
            "La recherche nécessite JavaScript. "
            "Tous les articles figurent aussi sur la page des articles."
        ),
        "site.search_none": "Aucun résultat pour « {query} ».",
        "site.search_count": "{count} résultats pour « {query} ».",
        "site.search_loading": "Recherche en cours…",
        "site.subscribe_pitch": "Recevez Spark chaque mois dans votre boîte de réception.",
        "site.feed": "Flux Atom",
        "site.native_name": "Français",
        "site.other_edition": "Ce numéro en anglais",
        "site.index_title": "Numéros précédents",
        "site.index_intro": "Tous les numéros de {name}, du plus récent au plus ancien.",
        "site.no_issues": "Aucun numéro n’a encore été publié.",
        "site.read_issue": "Lire le numéro de {month}",
        "site.in_this_issue": "Dans ce numéro",
        "site.items_title": "Tous les articles",
        "site.items_intro": (
            "Les {count} articles publiés dans {name}, du plus récent au plus ancien."
        ),
        "site.filters": "Filtrer les articles",
        "site.filter.section": "Rubrique",
        "site.filter.region": "Région",
        "site.filter.language": "Langue",
        "site.filter.format": "Format",
        "site.filter.tag": "Mot-clé",
        "site.filter.any": "Toutes",
        "site.filter.reset": "Tout afficher",
        "site.filter.count": "{count} articles affichés sur {total}.",
        "site.from_issue": "Tiré du numéro de {month}",
        "site.permalink": "Lien vers cet article",
        "site.published": "Publié le {date}",
        "site.tags": "Mots-clés",
        "site.source": "Source",
        "site.back_to_index": "Tous les numéros",
        "site.breadcrumb": "Fil d’Ariane",
        "site.main_nav": "Navigation principale",
        "site.footer_about": "{name} est publié par {organization}.",
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
