"""Spark: ingest education-research feeds, curate an issue, render it, send it.

The pipeline, stage by stage (each stage a module; decisions are pure functions,
I/O sits at the edges):

    config   spark.yaml and sources.yaml  -> Settings, [Source]
    fetch    Source                       -> FetchResult (bytes + HTTP metadata)
    parse    FetchResult                  -> [ParsedEntry]      (as found in the feed)
    clean    ParsedEntry                  -> sanitized HTML, text summary, lead image
    ingest   [ParsedEntry] + stored state -> [Item] to store     (normalize, classify, dedupe)
    store    SQLite: items, source state, subscribers, send log (all SQL lives there)
    review   stored candidates + review.yaml -> merged review.yaml (editors' work kept)
    render   review.yaml -> email HTML/text, subject, preheader
    archive  issues/ -> site/
    send     rendered email + subscribers -> SendGrid or the outbox
    schedule APScheduler jobs that run the stages unattended
"""

__version__ = "0.1.0"
