"""The audit trail, read-only."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api.deps import Limit, Offset
from app.db import SessionDep
from app.models.audit import AuditRead
from app.security import AuditRead as CanReadAudit
from app.services import audit

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditPage(BaseModel):
    items: list[AuditRead]
    total: int
    limit: int
    offset: int


@router.get(
    "",
    response_model=AuditPage,
    responses={401: {"description": "Not signed in"}, 403: {"description": "Not allowed"}},
)
def list_audit_events(
    principal: CanReadAudit,
    session: SessionDep,
    entity: Annotated[str | None, Query(max_length=32)] = None,
    key: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=120)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> AuditPage:
    rows, total = audit.search(
        session,
        entity=entity,
        key=key,
        actor=actor,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return AuditPage(
        items=[AuditRead.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
