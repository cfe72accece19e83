"""Syllabus exports: one course's syllabus, and a plan's syllabus book."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.api.coverage import send
from app.api.deps import CourseDep
from app.api.plans import PlanDep
from app.config import get_settings
from app.db import SessionDep
from app.exports import MEDIA_TYPES, BookFormat, Document, SyllabusFormat, loading, syllabus
from app.exports.schema import PlanBookDocument, SyllabusDocument
from app.models.common import utcnow
from app.security import CSP, CatalogRead, PlansRead
from app.services import courses

router = APIRouter(prefix="/api/v1", tags=["exports"])


def _files(*extensions: str) -> dict:
    content = {MEDIA_TYPES[ext].split(";")[0]: {} for ext in extensions}
    return {
        200: {"description": "The document (JSON body as described)", "content": content},
        404: {"description": "Unknown course or plan"},
        422: {"description": "Unknown format"},
    }


def _answer(request: Request, doc: Document) -> Response:
    response = send(doc)
    if doc.extension == "html":
        # The inline stylesheet is allowed by its hash, and nothing else is loosened.
        allowed = syllabus.style_hash(_fonts_url(request))
        response.headers["Content-Security-Policy"] = CSP.replace(
            "style-src 'self'", f"style-src 'self' {allowed}"
        )
    return response


def _fonts_url(request: Request) -> str:
    return request.app.url_path_for("static", path="/fonts")


@router.get(
    "/courses/{code}/syllabus",
    response_model=SyllabusDocument,
    responses=_files("html", "pdf", "docx", "md"),
)
def course_syllabus(
    principal: CatalogRead,
    session: SessionDep,
    course: CourseDep,
    request: Request,
    format: Annotated[SyllabusFormat, Query(description="Document format")] = SyllabusFormat.html,
) -> Response:
    """The course's syllabus: HTML (default, printable), PDF, Word, Markdown or JSON."""
    courses.ensure_visible(course, public_only=not principal.sees_all_courses)
    doc = loading.course_document(
        session, course, academy=get_settings().academy_name, generated_at=utcnow()
    )
    return _answer(request, syllabus.course(doc, format, fonts_url=_fonts_url(request)))


@router.get(
    "/plans/{plan_id}/syllabus",
    response_model=PlanBookDocument,
    responses=_files("html", "pdf", "docx"),
)
def plan_syllabus_book(
    principal: PlansRead,
    session: SessionDep,
    plan: PlanDep,
    request: Request,
    format: Annotated[BookFormat, Query(description="Document format")] = BookFormat.html,
) -> Response:
    """The plan's syllabus book: cover, approval history, term plan, every course's syllabus,
    and the coverage matrix and validation findings as appendices."""
    doc = loading.plan_document(
        session,
        plan,
        public_only=not principal.sees_all_courses,
        academy=get_settings().academy_name,
        generated_at=utcnow(),
    )
    return _answer(request, syllabus.book(doc, format, fonts_url=_fonts_url(request)))
