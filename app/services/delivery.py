"""The webhook delivery worker: claims due outbox rows, signs, sends, schedules retries.

At-least-once: a claim moves the row's next attempt to the end of a lease, so a worker that dies
mid-send leaves the row due again once the lease lapses. Retries are persisted per row (the
schedule survives restarts and is shared by all workers), so they are not stamina's in-process
loops; stamina only retries the claim itself when SQLite is briefly locked.
"""

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import stamina
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select
from standardwebhooks import Webhook

from app.db import is_postgres
from app.models.common import utcnow
from app.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookSubscription

log = logging.getLogger("planner.worker")

TIMEOUT = 10.0
LEASE = timedelta(seconds=60)
# About 23 h in all; after the last one fails the delivery is dead.
BACKOFF = [
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=8),
]


@dataclass
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None


@stamina.retry(on=OperationalError, attempts=3, timeout=10)
def claim(session: Session, *, now: datetime, limit: int = 20) -> list[str]:
    """Takes up to `limit` due rows for one lease; other workers skip them."""
    stmt = (
        select(WebhookDelivery.id)
        .where(
            col(WebhookDelivery.status).in_([DeliveryStatus.pending, DeliveryStatus.failed]),
            WebhookDelivery.next_attempt_at <= now,
        )
        .order_by(col(WebhookDelivery.next_attempt_at))
        .limit(limit)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=True)
    try:
        ids = list(session.exec(stmt))
        if ids:
            session.execute(
                update(WebhookDelivery)
                .where(col(WebhookDelivery.id).in_(ids))
                .values(next_attempt_at=now + LEASE, lease_until=now + LEASE)
            )
        session.commit()
    except OperationalError:
        session.rollback()
        raise
    return ids


def send(client: httpx.Client, sub: WebhookSubscription, delivery: WebhookDelivery) -> Outcome:
    """POSTs the payload signed per Standard Webhooks; any 2xx is success."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    sent_at = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": delivery.id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(sub.secret).sign(delivery.id, sent_at, body),
    }
    try:
        response = client.post(sub.url, content=body.encode(), headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}"[:1000])
    if 200 <= response.status_code < 300:
        return Outcome(ok=True, status_code=response.status_code)
    return Outcome(ok=False, status_code=response.status_code, error=response.text[:1000])


def settle(session: Session, delivery: WebhookDelivery, outcome: Outcome, *, now: datetime):
    """Delivered, or the next attempt scheduled, or dead after the last back-off step."""
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    delivery.lease_until = None
    if outcome.ok:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
    elif delivery.attempts > len(BACKOFF):
        delivery.status = DeliveryStatus.dead
    else:
        delivery.status = DeliveryStatus.failed
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
    session.add(delivery)
    session.commit()


def run_once(
    session: Session, *, now: datetime | None = None, client: httpx.Client | None = None
) -> int:
    """One pass: claim what is due, send each, record the outcome. Returns rows handled."""
    now = now or utcnow()
    ids = claim(session, now=now)
    if not ids:
        return 0
    own = client is None
    client = client or httpx.Client(follow_redirects=False)
    try:
        rows = session.exec(
            select(WebhookDelivery, WebhookSubscription)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(col(WebhookDelivery.id).in_(ids))
        ).all()
        for delivery, sub in rows:
            outcome = (
                send(client, sub, delivery)
                if sub.active
                else Outcome(ok=False, error="subscription deleted")
            )
            settle(session, delivery, outcome, now=now)
            log.info("webhook %s to %s: %s", delivery.id, sub.url, delivery.status)
    finally:
        if own:
            client.close()
    return len(ids)


DUE_SCAN_SECONDS = 3600  # how often the worker looks for people newly due or overdue


def run_forever(session_factory, *, idle_seconds: float = 2.0) -> None:  # pragma: no cover
    """The `planner worker` loop; stop it with Ctrl-C or SIGTERM."""
    log.info("webhook worker started")
    last_scan = 0.0
    with httpx.Client(follow_redirects=False) as client:
        while True:
            if time.monotonic() - last_scan > DUE_SCAN_SECONDS:
                from app.services import requirements  # the scan reads rules, people, records

                with session_factory() as session:
                    found = requirements.notify_due(session)
                log.info("training-due scan: %d new notice(s)", found)
                last_scan = time.monotonic()
            with session_factory() as session:
                handled = run_once(session, client=client)
            if not handled:
                time.sleep(idle_seconds)
