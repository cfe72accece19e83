"""Webhook subscriptions and the outbox: events are written in the caller's transaction."""

import base64
import ipaddress
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from app.config import get_settings
from app.errors import Conflict, Invalid, NotFound, field_error
from app.models.common import utcnow
from app.models.webhooks import (
    DeliveryStatus,
    SubscriptionCreate,
    WebhookDelivery,
    WebhookSubscription,
)
from app.services import audit

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_hex(16)


def check_url(url: str) -> None:
    """https anywhere; plain http only to this machine, and only in development."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return
    local = host in LOCAL_HOSTS or _loopback(host)
    if parts.scheme == "http" and local and get_settings().environment == "development":
        return
    raise Invalid(
        "A webhook URL must use https (http://127.0.0.1 or localhost only in development).",
        errors=[field_error(["url"], "must be an https URL")],
    )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create(session: Session, data: SubscriptionCreate, *, actor: str) -> WebhookSubscription:
    """A new subscription with a fresh signing secret."""
    url = str(data.url)
    check_url(url)
    sub = WebhookSubscription(
        url=url,
        events=sorted({e.value for e in data.events}),
        secret=new_secret(),
        description=data.description,
        created_by=actor,
    )
    session.add(sub)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="webhook_subscription",
        key=str(sub.id),
        after={"url": url, "events": sub.events},
    )
    session.commit()
    return sub


def get(session: Session, sub_id: int) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, sub_id)
    if sub is None:
        raise NotFound(f"No webhook subscription {sub_id}.")
    return sub


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(session.exec(select(WebhookSubscription).order_by(col(WebhookSubscription.id))))


def deactivate(session: Session, sub: WebhookSubscription, *, actor: str) -> None:
    """Stops deliveries; the subscription and its delivery log stay for the record."""
    if not sub.active:
        return
    sub.active = False
    session.add(sub)
    session.execute(
        WebhookDelivery.__table__.update()
        .where(
            WebhookDelivery.subscription_id == sub.id,
            col(WebhookDelivery.status).in_([DeliveryStatus.pending, DeliveryStatus.failed]),
        )
        .values(status=DeliveryStatus.dead, last_error="subscription deleted")
    )
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="webhook_subscription",
        key=str(sub.id),
        before={"url": sub.url, "events": sub.events},
    )
    session.commit()


def emit(session: Session, event_type: str, data: dict[str, Any]) -> int:
    """One outbox row per active subscription to this event; the caller commits."""
    return emit_many(session, event_type, [data])


def emit_many(session: Session, event_type: str, items: Iterable[dict[str, Any]]) -> int:
    """Like emit, for many events of one type: one query and one bulk insert."""
    subs = [
        s.id
        for s in session.exec(
            select(WebhookSubscription).where(col(WebhookSubscription.active).is_(True))
        )
        if event_type in s.events
    ]
    if not subs:
        return 0
    now = utcnow()
    rows = [
        {
            "id": new_message_id(),
            "subscription_id": sub_id,
            "event_type": event_type,
            "payload": {"type": event_type, "timestamp": now.isoformat(), "data": data},
            "status": DeliveryStatus.pending.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for data in items
        for sub_id in subs
    ]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def deliveries(
    session: Session, sub: WebhookSubscription | None, *, limit: int = 50, offset: int = 0
) -> tuple[list[WebhookDelivery], int]:
    """The delivery log, newest first."""
    stmt = select(WebhookDelivery)
    if sub is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == sub.id)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    page = session.exec(
        stmt.order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return list(page), total


def get_delivery(session: Session, delivery_id: str) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"No webhook delivery {delivery_id}.")
    return delivery


def replay(
    session: Session, delivery: WebhookDelivery, *, actor: str, now: datetime | None = None
) -> WebhookDelivery:
    """Sends the same message (same webhook-id) again, with a fresh retry schedule."""
    sub = get(session, delivery.subscription_id)
    if not sub.active:
        raise Conflict("The subscription was deleted; its deliveries cannot be replayed.")
    delivery.status = DeliveryStatus.pending
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    delivery.lease_until = None
    session.add(delivery)
    audit.record(
        session,
        actor=actor,
        action="replay",
        entity="webhook_delivery",
        key=delivery.id,
        after={"subscription": sub.id, "event_type": delivery.event_type},
    )
    session.commit()
    return delivery
