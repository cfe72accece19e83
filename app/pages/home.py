"""The home page: what the planner holds, where the gaps are, and where to go next."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, true
from sqlmodel import Session, col, select

from app.db import SessionDep
from app.models.accounts import Scope
from app.models.courses import Course, CourseLink
from app.models.instruments import Instrument, Provision
from app.models.plans import Plan, PlanStatus
from app.pages.render import render
from app.security import AUDIT_READ, CatalogRead, Principal
from app.services import audit, coverage
from app.services.courses import public_course

router = APIRouter(tags=["pages"], include_in_schema=False)

GAPS_SHOWN = 8
CHANGES_SHOWN = 10


def _counts(session: Session, *, public_only: bool) -> dict[str, int]:
    """Every headline count in one statement; the public sees only public courses and their links."""
    visible = public_course() if public_only else true()

    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    row = session.exec(
        select(
            count(Instrument),
            count(Provision),
            count(Course, visible),
            count(CourseLink, col(CourseLink.course_id).in_(select(Course.id).where(visible))),
        )
    ).one()
    return dict(zip(("instruments", "provisions", "courses", "links"), row, strict=True))


def _plans_by_status(session: Session) -> dict[str, int]:
    found = dict(session.exec(select(Plan.status, func.count()).group_by(Plan.status)).all())
    return {s.value: found.get(s.value, 0) for s in PlanStatus}


def _staff(principal: Principal) -> bool:
    return principal.kind == "user" and principal.can(AUDIT_READ)


@router.get("/", response_class=HTMLResponse)
def home(principal: CatalogRead, request: Request, session: SessionDep):
    public_only = not principal.sees_all_courses
    plans = _plans_by_status(session) if principal.can(Scope.plans_read) else None
    uncovered, uncovered_total = coverage.uncovered(
        session, public_only=public_only, limit=GAPS_SHOWN
    )
    return render(
        request,
        "home.html",
        {
            "counts": _counts(session, public_only=public_only),
            "plans": plans,
            "uncovered": uncovered,
            "uncovered_total": uncovered_total,
            "unassessed_total": coverage.unassessed_count(session, public_only=public_only),
            "changes": audit.recent_changes(session, CHANGES_SHOWN) if _staff(principal) else None,
        },
    )
