"""Kill -9 the sending process at random points; the rerun completes it, nobody mailed twice.

Delivery is counted at the stand-in, which counts a request only when the client was still
connected to receive its answer.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from spark.config import load_settings
from spark.store import Store
from tests.send.conftest import ISSUE, NOW, set_sendgrid, subscribers
from tests.support.sendgrid import serve_sendgrid

REPO = Path(__file__).resolve().parents[2]
RECIPIENTS = 10_000
KILLS = 3
LATENCY = 0.3


def _spark(root: Path, url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SENDGRID_API_KEY": "test",
        "SENDGRID_API_HOST": url,
        "PYTHONPATH": str(REPO),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "spark", "--root", str(root), "send", ISSUE, "--confirm", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_sigkill_during_send_then_resend_in_doubt_delivers_each_once(approved: Path) -> None:
    set_sendgrid(approved, concurrency=4, batch_size=500, timeout=10)
    with Store(load_settings(approved).database_path) as store:
        store.upsert_subscribers(
            subscribers(6000, prefix="en") + subscribers(4000, lang="fr", prefix="fr"), NOW
        )
    rng = random.Random()
    with serve_sendgrid(latency=LATENCY) as sg:
        for _ in range(KILLS):
            proc = _spark(approved, sg.url)
            # Kill while requests are in flight: a random request of this run, at a random
            # moment of its wait for the answer. (A kill in the instant between the client
            # reading an answer and committing it is the in-doubt window no client can close;
            # see docs/sending.md.)
            target = len(sg.requests) + rng.randint(1, 8)
            deadline = time.monotonic() + 30
            while len(sg.requests) < target and proc.poll() is None:
                assert time.monotonic() < deadline, "the send never got going"
                time.sleep(0.002)
            time.sleep(rng.uniform(0.05, 0.8) * LATENCY)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        final = _spark(approved, sg.url, "--resend-in-doubt")
        out, err = final.communicate(timeout=60)
        assert final.returncode == 0, (out + err).decode()
    counts = sg.recipients()
    assert len(counts) == RECIPIENTS
    duplicates = {e: n for e, n in counts.items() if n != 1}
    assert duplicates == {}
    for (_issue, edition, address), _n in sg.delivered.items():
        assert edition == address[:2]
    # The kills did land mid-send: some answers never reached a living client.
    assert sg.undelivered_requests > 0
    print(f"requests {len(sg.requests)}, lost answers {sg.undelivered_requests}")
