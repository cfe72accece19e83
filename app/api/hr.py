"""HR pull: in-service requirements, compliance of a unit, and one person's transcript."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.db import SessionDep
from app.models.accounts import Scope
from app.models.training import (
    PRINTABLE,
    ComplianceReport,
    ComplianceStatus,
    RequirementIn,
    RequirementRead,
    Transcript,
)
from app.security import ADMIN, Principal, require, require_any
from app.services import personnel, requirements

router = APIRouter(prefix="/api/v1", tags=["hr"])

RecordsRead = Annotated[Principal, Depends(require(Scope.records_read))]
RulesWrite = Annotated[Principal, Depends(require_any(Scope.webhooks_admin, ADMIN))]
Format = Annotated[Literal["json", "csv"], Query(alias="format")]
CSV = {200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with ?format=csv"}}


def _answer(report: ComplianceReport, fmt: str):
    if fmt == "csv":
        return Response(
            requirements.compliance_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="compliance.csv"'},
        )
    return report


@router.post(
    "/requirements",
    response_model=RequirementRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        400: {"description": "Malformed JSON"},
        404: {"description": "Unknown course"},
        422: {"description": "Invalid rule"},
    },
)
def create_requirement(
    principal: RulesWrite, session: SessionDep, data: RequirementIn
) -> RequirementRead:
    return requirements.create(session, data, actor=principal.actor)


@router.get("/requirements", response_model=list[RequirementRead])
def list_requirements(principal: RecordsRead, session: SessionDep) -> list[RequirementRead]:
    return requirements.list_requirements(session)


@router.get(
    "/compliance",
    response_model=ComplianceReport,
    responses={**CSV, 404: {"description": "Unknown unit"}},
)
def get_compliance(
    principal: RecordsRead,
    session: SessionDep,
    unit: Annotated[str | None, Query(max_length=36, pattern=PRINTABLE)] = None,
    status: ComplianceStatus | None = None,
    fmt: Format = "json",
):
    chosen = personnel.get_unit(session, unit) if unit else None
    return _answer(requirements.compliance(session, unit=chosen, status=status), fmt)


@router.get(
    "/units/{unit_id}/compliance",
    response_model=ComplianceReport,
    responses={**CSV, 404: {"description": "Unknown unit"}},
)
def get_unit_compliance(
    principal: RecordsRead,
    session: SessionDep,
    unit_id: Annotated[str, Path(max_length=36, pattern=PRINTABLE)],
    status: ComplianceStatus | None = None,
    fmt: Format = "json",
):
    unit = personnel.get_unit(session, unit_id)
    return _answer(requirements.compliance(session, unit=unit, status=status), fmt)


@router.get(
    "/people/{key}/transcript",
    response_model=Transcript,
    responses={404: {"description": "Unknown person"}},
)
def get_transcript(
    principal: RecordsRead,
    session: SessionDep,
    key: Annotated[str, Path(max_length=64, pattern=PRINTABLE)],
) -> Transcript:
    return requirements.transcript(session, personnel.lookup(session, key))
