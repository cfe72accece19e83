"""Course catalogue API."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Path, Query, Response, status

from app.api.deps import (
    CourseDep,
    ExpectedVersion,
    Limit,
    Offset,
    SearchQuery,
    set_etag,
)
from app.db import SessionDep
from app.models.common import CourseStatus, Domain, Level
from app.models.courses import CourseCreate, CoursePage, CourseRead, CourseUpdate, LinkIn, LinkRead
from app.security import CatalogRead, CatalogWrite
from app.services import courses

router = APIRouter(prefix="/api/v1/courses", tags=["courses"])

PROBLEMS = {
    400: {"description": "Malformed request"},
    404: {"description": "Unknown course"},
    409: {"description": "Conflict with existing data"},
    412: {"description": "Stale If-Match"},
    422: {"description": "Invalid fields"},
    428: {"description": "If-Match missing"},
}


@router.get("", response_model=CoursePage)
def list_courses(
    principal: CatalogRead,
    session: SessionDep,
    domain: Domain | None = None,
    level: Level | None = None,
    status: CourseStatus | None = None,
    instrument: Annotated[str | None, Query(max_length=64)] = None,
    q: SearchQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    # The hottest read of the API: read as columns and serialised straight to JSON (same bytes
    # as CoursePage's); response_model still documents the answer. Tests hold the two equal.
    items, total = courses.summary_page(
        session,
        domain=domain,
        level=level,
        status=status,
        instrument=instrument,
        q=q,
        limit=limit,
        offset=offset,
        public_only=not principal.sees_all_courses,
    )
    body = orjson.dumps({"items": items, "total": total, "limit": limit, "offset": offset})
    return Response(body, media_type="application/json")


@router.post(
    "",
    response_model=CourseRead,
    status_code=status.HTTP_201_CREATED,
    responses={k: PROBLEMS[k] for k in (400, 409, 422)},
)
def create_course(
    principal: CatalogWrite,
    session: SessionDep,
    data: CourseCreate,
    response: Response,
) -> CourseRead:
    course = courses.create(session, data, actor=principal.actor)
    set_etag(response, course.version)
    response.headers["Location"] = f"/api/v1/courses/{course.code}"
    return courses.detail(session, course)


@router.get("/{code}", response_model=CourseRead, responses={404: PROBLEMS[404]})
def get_course(
    principal: CatalogRead,
    session: SessionDep,
    course: CourseDep,
    response: Response,
) -> CourseRead:
    courses.ensure_visible(course, public_only=not principal.sees_all_courses)
    set_etag(response, course.version)
    return courses.detail(session, course)


@router.patch(
    "/{code}",
    response_model=CourseRead,
    responses={k: PROBLEMS[k] for k in (400, 404, 412, 422, 428)},
)
def update_course(
    principal: CatalogWrite,
    session: SessionDep,
    course: CourseDep,
    data: CourseUpdate,
    expected: ExpectedVersion,
    response: Response,
) -> CourseRead:
    course = courses.update_course(session, course, data, expected=expected, actor=principal.actor)
    set_etag(response, course.version)
    return courses.detail(session, course)


@router.delete(
    "/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={k: PROBLEMS[k] for k in (404, 409, 412, 428)},
)
def delete_course(
    principal: CatalogWrite,
    session: SessionDep,
    course: CourseDep,
    expected: ExpectedVersion,
) -> Response:
    courses.delete_course(session, course, expected=expected, actor=principal.actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{code}/links",
    response_model=LinkRead,
    status_code=status.HTTP_201_CREATED,
    responses={k: PROBLEMS[k] for k in (400, 404, 409, 412, 422, 428)},
)
def add_course_link(
    principal: CatalogWrite,
    session: SessionDep,
    course: CourseDep,
    data: LinkIn,
    expected: ExpectedVersion,
    response: Response,
) -> LinkRead:
    link = courses.add_link(session, course, data, expected=expected, actor=principal.actor)
    set_etag(response, course.version)
    return link


@router.delete(
    "/{code}/links/{link_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={k: PROBLEMS[k] for k in (404, 412, 428)},
)
def delete_course_link(
    principal: CatalogWrite,
    session: SessionDep,
    course: CourseDep,
    link_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    expected: ExpectedVersion,
) -> Response:
    courses.delete_link(session, course, link_id, expected=expected, actor=principal.actor)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    set_etag(response, course.version)
    return response
