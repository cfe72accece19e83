"""Audit trail: one event per change, written in the caller's transaction."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from app.models.audit import AuditEvent
from app.models.common import aware


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Fields whose value changed, as {field: [before, after]}."""
    keys = sorted(set(before) | set(after))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    key: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; an update records only the fields that changed."""
    if before is not None and after is not None:
        changes = diff(before, after)
    else:
        changes = {"before": before} if after is None else {"after": after}
    event = AuditEvent(actor=actor, action=action, entity=entity, entity_key=key, changes=changes)
    session.add(event)
    return event


def history(session: Session, *, entity: str, key: str, limit: int = 50) -> list[AuditEvent]:
    """The newest events of one entity first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_key == key)
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(session.exec(stmt))


def search(
    session: Session,
    *,
    entity: str | None = None,
    key: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEvent], int]:
    """Events matching every filter given, newest first."""
    stmt = select(AuditEvent)
    for column, value in (
        (AuditEvent.entity, entity),
        (AuditEvent.entity_key, key),
        (AuditEvent.actor, actor),
        (AuditEvent.action, action),
    ):
        if value:
            stmt = stmt.where(column == value)
    if since:
        stmt = stmt.where(col(AuditEvent.at) >= aware(since))
    if until:
        stmt = stmt.where(col(AuditEvent.at) < aware(until))
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(AuditEvent.id).desc()).limit(limit).offset(offset)).all()
    return list(rows), total


def recent_changes(session: Session, limit: int = 10) -> list[AuditEvent]:
    """The newest events across every entity first."""
    stmt = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    return list(session.exec(stmt))
