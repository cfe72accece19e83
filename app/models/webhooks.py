"""Outgoing webhooks: subscriptions and the outbox of deliveries (Standard Webhooks)."""

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, UrlConstraints
from pydantic import Field as PField
from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from app.models.common import UtcDateTime, utcnow


class EventType(StrEnum):
    course_updated = "course.updated"
    plan_approved = "plan.approved"
    plan_archived = "plan.archived"
    enrollment_created = "enrollment.created"
    record_completed = "record.completed"
    person_training_due = "person.training_due"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"  # waiting for its next attempt
    dead = "dead"  # gave up after the retry window


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=String(2000))
    events: list[str] = Field(default_factory=list, sa_type=JSON)
    # The signing key must be readable to sign; it is shown once, on creation.
    secret: str = Field(sa_type=String(100))
    description: str = Field(default="", sa_type=String(300))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, default=True))
    created_at: dt.datetime = Field(default_factory=utcnow)
    created_by: str = Field(sa_type=String(200))


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"

    id: str = Field(primary_key=True, sa_type=String(40))  # the webhook-id, "msg_..."
    subscription_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    event_type: str = Field(sa_type=String(40), index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=String(16), index=True)
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow, index=True)
    # While a worker sends it: a crashed worker's claim lapses at this time and another retries.
    lease_until: dt.datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: dt.datetime = Field(default_factory=utcnow)
    delivered_at: dt.datetime | None = None


# ---- API schemas ---------------------------------------------------------------------------

WebUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)]


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: WebUrl
    events: Annotated[list[EventType], PField(min_length=1, max_length=len(EventType))]
    description: Annotated[str, PField(max_length=300, pattern=r"^[^\x00-\x1f]*$")] = ""


class SubscriptionRead(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: UtcDateTime


class SubscriptionCreated(SubscriptionRead):
    secret: str  # shown only in this answer


class DeliveryRead(BaseModel):
    id: str
    subscription_id: int
    event_type: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: UtcDateTime
    last_status_code: int | None
    last_error: str | None
    created_at: UtcDateTime
    delivered_at: UtcDateTime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    total: int
    limit: int
    offset: int
