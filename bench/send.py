"""Send to 50,000 subscribers against the SendGrid stand-in (50 ms latency per request).

Prints requests made, wall time and peak memory (targets: 50 requests, under 15 s, under
300 MB), and a baseline measured in the same run: the same send with concurrency 1.
Peak memory is the process's maximum RSS, which includes the stand-in server parsing
every request body in the same process.
"""

from __future__ import annotations

import resource
import shutil
import tempfile
import time
from pathlib import Path

from spark.config import load_settings
from spark.mailers import SendGridMailer
from spark.send import send_issue
from spark.store import Store
from tests.send.conftest import ISSUE, NOW, make_issue, set_sendgrid, subscribers
from tests.support.sendgrid import serve_sendgrid

REPO = Path(__file__).resolve().parent.parent
SUBSCRIBERS = 50_000
LATENCY = 0.05


def _run(workdir: Path, concurrency: int) -> tuple[int, float, int]:
    root = workdir / f"c{concurrency}"
    root.mkdir()
    shutil.copy(REPO / "examples" / "demo" / "spark.yaml", root / "spark.yaml")
    set_sendgrid(root, concurrency=concurrency, batch_size=1000, timeout=30)
    make_issue(root)
    settings = load_settings(root)
    with Store(settings.database_path) as store:
        store.upsert_subscribers(
            subscribers(30_000, prefix="en") + subscribers(20_000, lang="fr", prefix="fr"), NOW
        )
        with serve_sendgrid(latency=LATENCY) as sg:
            mailer = SendGridMailer("test", host=sg.url, timeout=30)
            start = time.perf_counter()
            report = send_issue(settings, store, ISSUE, now=NOW, mailer=mailer)
            elapsed = time.perf_counter() - start
        assert report.complete, report.error
        delivered = sum(sg.recipients().values())
        assert delivered == SUBSCRIBERS, delivered
        return len(sg.requests), elapsed, len(sg.recipients())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        requests, elapsed, recipients = _run(
            workdir, load_settings(REPO / "examples" / "demo").sendgrid.concurrency
        )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        base_requests, base_elapsed, _ = _run(workdir, 1)
    print(f"recipients:      {recipients}")
    print(f"requests made:   {requests} (target 50)")
    print(f"wall time:       {elapsed:.2f} s (target < 15 s)")
    print(f"peak memory:     {peak_mb:.0f} MB RSS (target < 300 MB)")
    print(f"baseline:        {base_elapsed:.2f} s for {base_requests} requests, concurrency 1")
    print(f"speed-up:        {base_elapsed / elapsed:.1f}x")


if __name__ == "__main__":
    main()
