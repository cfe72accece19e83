"""Coverage matrix and gap report API."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.models.common import CourseStatus, Domain, Theme
from app.models.coverage import CoverageMatrix, GapReport
from app.security import CatalogRead
from app.services import coverage

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"])


@router.get("", response_model=CoverageMatrix)
def coverage_matrix(
    principal: CatalogRead,
    session: SessionDep,
    domain: Domain | None = None,
    theme: Theme | None = None,
    status: CourseStatus | None = None,
) -> CoverageMatrix:
    return coverage.matrix(
        session,
        domain=domain,
        theme=theme,
        status=status,
        public_only=not principal.sees_all_courses,
    )


@router.get("/gaps", response_model=GapReport)
def coverage_gaps(
    principal: CatalogRead,
    session: SessionDep,
    party: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z]{2}$",
            description="Only instruments this state (ISO 3166-1 alpha-2) takes part in",
        ),
    ] = None,
) -> GapReport:
    return coverage.gaps(session, party=party, public_only=not principal.sees_all_courses)
