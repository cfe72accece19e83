"""Coverage matrix and gap report API."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.db import SessionDep
from app.exports import MEDIA_TYPES, Document, MatrixFormat, matrix
from app.models.common import CourseStatus, Domain, Theme, utcnow
from app.models.coverage import CoverageMatrix, GapReport
from app.security import CatalogRead
from app.services import coverage

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"])

MATRIX_FILES = {
    200: {
        "description": "The matrix: JSON (default), or a CSV or XLSX file with `format`",
        "content": {MEDIA_TYPES[ext].split(";")[0]: {} for ext in ("csv", "xlsx")},
    }
}
FormatQuery = Annotated[
    MatrixFormat,
    Query(description="`json` (default), or `csv` / `xlsx` for a spreadsheet file"),
]


def send(doc: Document) -> Response:
    """A rendered document as the response, under its file name."""
    return Response(
        doc.body, media_type=doc.media_type, headers={"Content-Disposition": doc.disposition}
    )


def matrix_answer(
    result: coverage.Matrix, format: MatrixFormat, *, stem: str, scope: str
) -> Response:
    """The matrix as JSON (written directly: the schema is CoverageMatrix), or as a CSV or
    XLSX file."""
    if format == MatrixFormat.csv:
        return send(Document(matrix.to_csv(result), "csv", stem))
    if format == MatrixFormat.xlsx:
        body = matrix.to_xlsx(result, scope=scope, generated_at=utcnow())
        return send(Document(body, "xlsx", stem))
    return Response(result.to_json(), media_type="application/json")


@router.get("", response_model=CoverageMatrix, responses=MATRIX_FILES)
def coverage_matrix(
    principal: CatalogRead,
    session: SessionDep,
    domain: Domain | None = None,
    theme: Theme | None = None,
    status: CourseStatus | None = None,
    format: FormatQuery = MatrixFormat.json,
) -> Response:
    result = coverage.fold(
        session,
        domain=domain,
        theme=theme,
        status=status,
        public_only=not principal.sees_all_courses,
    )
    filters = [
        f"{k}={v}" for k, v in (("domain", domain), ("theme", theme), ("status", status)) if v
    ]
    scope = "all courses" + (f" ({', '.join(filters)})" if filters else "")
    return matrix_answer(result, format, stem="coverage-matrix", scope=scope)


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
