"""The home page: what the planner holds and where to go next."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func
from sqlmodel import select

from app.db import SessionDep
from app.models.courses import Course, CourseLink
from app.models.instruments import Instrument, Provision
from app.pages.render import render
from app.security import CatalogRead
from app.services import coverage

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(
    principal: CatalogRead,
    request: Request,
    session: SessionDep,
):
    counts = {
        "instruments": session.exec(select(func.count()).select_from(Instrument)).one(),
        "provisions": session.exec(select(func.count()).select_from(Provision)).one(),
        "courses": session.exec(select(func.count()).select_from(Course)).one(),
        "links": session.exec(select(func.count()).select_from(CourseLink)).one(),
    }
    gaps = coverage.gaps(session, public_only=not principal.sees_all_courses)
    return render(request, "home.html", {"counts": counts, "gaps": gaps})
