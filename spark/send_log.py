"""What the send log holds: one record per issue edition, one row per batch (request).

A batch is `pending` from just before its request goes out until its answer is recorded
(`accepted` with SendGrid's message id, or `failed`). A batch still pending when no send is
running is *in doubt*: the request may or may not have reached SendGrid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

BatchStatus = Literal["pending", "accepted", "failed"]


@dataclass(frozen=True)
class SendRecord:
    id: int
    issue: str
    edition: str
    started: datetime
    finished: datetime | None
    status: str  # sending | sent
    recipients: int


@dataclass(frozen=True)
class SendBatch:
    send_id: int
    batch_no: int
    status: str  # BatchStatus
    recipients: tuple[tuple[str, str], ...]  # (email, name)
    message_id: str | None = None
    error: str | None = None
    requested: datetime | None = None
    answered: datetime | None = None


@dataclass(frozen=True)
class EditionSummary:
    edition: str
    status: str
    started: datetime
    finished: datetime | None
    recipients: int  # accepted recipients
    batches: int
    accepted: int
    failed: int
    in_doubt: int
    message_ids: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendSummary:
    """The last send, for `spark status`."""

    issue: str
    editions: tuple[EditionSummary, ...] = field(default_factory=tuple)

    @property
    def recipients(self) -> int:
        return sum(e.recipients for e in self.editions)

    @property
    def failures(self) -> int:
        return sum(e.failed + e.in_doubt for e in self.editions)
