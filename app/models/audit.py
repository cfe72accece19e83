"""The append-only audit trail of every change to data."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, String
from sqlmodel import Field, SQLModel

from app.models.common import UtcDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(sa_type=String(120))
    action: str = Field(sa_type=String(32))
    entity: str = Field(sa_type=String(32))
    entity_key: str = Field(sa_type=String(200), index=True)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class AuditRead(BaseModel):
    at: UtcDateTime
    actor: str
    action: str
    entity: str
    entity_key: str
    changes: dict[str, Any]
