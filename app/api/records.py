"""Training records and enrolments API: HR pushes completions and assigns people to training."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, status
from fastapi.responses import JSONResponse

from app.api.deps import Limit, Offset
from app.db import SessionDep
from app.models.accounts import Scope
from app.models.courses import COURSE_CODE
from app.models.training import PRINTABLE, EnrollmentIn, EnrollmentResult, ImportResult, RecordPage
from app.security import Principal, require
from app.services import records

router = APIRouter(prefix="/api/v1", tags=["training"])

RecordsRead = Annotated[Principal, Depends(require(Scope.records_read))]
RecordsWrite = Annotated[Principal, Depends(require(Scope.records_write))]
PROBLEMS = {
    400: {"description": "Malformed JSON"},
    404: {"description": "Unknown person, unit, course or plan"},
    409: {"description": "Imported or assigned concurrently"},
    422: {"description": "Invalid rows (every one listed) or a reused Idempotency-Key"},
}


@router.post(
    "/enrollments",
    response_model=EnrollmentResult,
    status_code=status.HTTP_201_CREATED,
    responses=PROBLEMS,
)
def enroll(principal: RecordsWrite, session: SessionDep, data: EnrollmentIn) -> EnrollmentResult:
    return records.enroll(session, data, actor=principal.actor)


@router.post(
    "/records",
    response_model=ImportResult,
    status_code=status.HTTP_201_CREATED,
    responses=PROBLEMS,
)
def import_records(
    principal: RecordsWrite,
    session: SessionDep,
    payload: Annotated[
        dict[str, Any],
        Body(description='One record, or {"records": [...]} with up to 10,000 records'),
    ],
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", max_length=255, min_length=1)
    ] = None,
) -> JSONResponse:
    code, body = records.import_records(
        session, payload, actor=principal.actor, idempotency_key=idempotency_key
    )
    return JSONResponse(body, status_code=code)


@router.get(
    "/records",
    response_model=RecordPage,
    responses={404: {"description": "Unknown person or unit"}},
)
def list_records(
    principal: RecordsRead,
    session: SessionDep,
    person: Annotated[
        str | None,
        Query(max_length=64, pattern=PRINTABLE, description="scim id or employee number"),
    ] = None,
    course: Annotated[str | None, Query(max_length=16, pattern=COURSE_CODE)] = None,
    plan: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    unit: Annotated[str | None, Query(max_length=36, pattern=PRINTABLE)] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RecordPage:
    items, total = records.list_records(
        session,
        person=person,
        course=course,
        plan_id=plan,
        unit=unit,
        since=from_,
        until=to,
        limit=limit,
        offset=offset,
    )
    return RecordPage(items=items, total=total, limit=limit, offset=offset)
