"""Subscriber CSV import, consent rules, export and removal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from spark.cli import cli
from spark.config import load_settings
from spark.errors import SubscriberFileError
from spark.store import Store
from spark.subscribers import expiring_consents, export_csv, import_csv, mailable, remove
from tests.send.conftest import NOW

GOOD = """email,name,language,consent,consent_date,consent_source
amelia.chen@example.org,Amelia Chen,en,express,2025-03-14,website form
JF.Tremblay@Example.com,Jean-François Tremblay,fr,implied,2025-10-22,conference
"""
BAD = (
    GOOD
    + "not-an-address,Bad Email,en,express,2025-01-01,form\n"
    + "ok@example.org,Fine,en,express,2025-01-01,form\n"
    + "who@example.org,No Consent,en,maybe,2025-01-01,form\n"
    + "when@example.org,Bad Date,en,express,14/03/2025,form\n"
    + "amelia.chen@example.org,Twice,en,express,2025-03-14,form\n"
)


def test_bad_rows_are_reported_with_line_numbers_and_nothing_imported(
    newsletter: Path, store: Store
) -> None:
    csv = newsletter / "subscribers.csv"
    csv.write_text(BAD, "utf-8")
    with pytest.raises(SubscriberFileError) as info:
        import_csv(store, csv, load_settings(newsletter), now=NOW)
    lines = [p.line for p in info.value.problems]
    assert lines == [4, 6, 7, 8]
    assert "not-an-address" in str(info.value) and "appears twice" in str(info.value)
    assert store.subscribers() == []
    result = CliRunner().invoke(cli, ["--root", str(newsletter), "subscribers", "import", str(csv)])
    assert result.exit_code == 2
    assert f"{csv}:4:" in result.output and f"{csv}:7:" in result.output


def test_skip_bad_imports_the_good_rows(newsletter: Path, store: Store) -> None:
    csv = newsletter / "subscribers.csv"
    csv.write_text(BAD, "utf-8")
    result = CliRunner().invoke(
        cli, ["--root", str(newsletter), "subscribers", "import", str(csv), "--skip-bad"]
    )
    assert result.exit_code == 0, result.output
    assert [s.email for s in store.subscribers()] == [
        "amelia.chen@example.org",
        "jf.tremblay@example.com",
        "ok@example.org",
    ]


def test_import_is_idempotent_and_reimport_changes_language(newsletter: Path, store: Store) -> None:
    settings = load_settings(newsletter)
    csv = newsletter / "subscribers.csv"
    csv.write_text(GOOD, "utf-8")
    assert import_csv(store, csv, settings, now=NOW).changed == 2
    assert import_csv(store, csv, settings, now=NOW).changed == 0
    csv.write_text(GOOD.replace("Amelia Chen,en", "Amelia Chen,fr"), "utf-8")
    assert import_csv(store, csv, settings, now=NOW).changed == 1
    amelia = store.subscriber("amelia.chen@example.org")
    assert amelia is not None and amelia.language == "fr"


def test_implied_consent_lapses_after_two_years(newsletter: Path, store: Store) -> None:
    settings = load_settings(newsletter)
    csv = newsletter / "subscribers.csv"
    csv.write_text(
        "email,consent,consent_date\n"
        "old@example.org,implied,2024-11-01\n"
        "soon@example.org,implied,2024-12-20\n"
        "later@example.org,implied,2025-06-01\n"
        "express@example.org,express,2010-01-01\n",
        "utf-8",
    )
    import_csv(store, csv, settings, now=NOW)
    by_email = {s.email: s for s in store.subscribers()}
    assert not mailable(by_email["old@example.org"], NOW)
    assert mailable(by_email["soon@example.org"], NOW)
    assert mailable(by_email["express@example.org"], NOW)
    expiring = expiring_consents(store, NOW, within_days=60)
    assert [(s.email, d) for s, d in expiring] == [("soon@example.org", date(2026, 12, 20))]


def test_export_and_remove(newsletter: Path, store: Store) -> None:
    settings = load_settings(newsletter)
    csv = newsletter / "subscribers.csv"
    csv.write_text(GOOD, "utf-8")
    import_csv(store, csv, settings, now=NOW)
    assert remove(store, "Amelia.Chen@example.org", now=NOW)
    assert not remove(store, "nobody@example.org", now=NOW)
    # An old list imported again does not bring the address back.
    import_csv(store, csv, settings, now=NOW)
    amelia = store.subscriber("amelia.chen@example.org")
    assert amelia is not None and amelia.status == "unsubscribed"
    exported = export_csv(store).splitlines()
    assert exported[0] == "email,name,language,consent,consent_date,consent_source,status"
    assert (
        "amelia.chen@example.org,Amelia Chen,en,express,2025-03-14,website form,unsubscribed"
        in (exported)
    )
    out = newsletter / "export.csv"
    runner = CliRunner()
    assert (
        runner.invoke(cli, ["--root", str(newsletter), "subscribers", "export", str(out)]).exit_code
        == 0
    )
    assert out.read_text("utf-8").splitlines() == exported
    listed = runner.invoke(cli, ["--root", str(newsletter), "subscribers", "list"])
    assert listed.exit_code == 0 and "jf.tremblay@example.com" in listed.output
    removed = runner.invoke(
        cli, ["--root", str(newsletter), "subscribers", "remove", "jf.tremblay@example.com"]
    )
    assert removed.exit_code == 0


def test_demo_subscribers_import(newsletter: Path, store: Store) -> None:
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo" / "subscribers.csv"
    report = import_csv(store, demo, load_settings(newsletter), now=NOW)
    assert report.bad == () and report.read == len(store.subscribers()) > 0
