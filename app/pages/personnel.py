"""Personnel pages: the people list with search, a person's page and a unit's page."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from app.db import SessionDep
from app.models.accounts import Scope
from app.models.personnel import UnitKind
from app.pages.render import is_htmx, render
from app.security import Principal, require
from app.services import personnel

router = APIRouter(tags=["pages"], include_in_schema=False)
PeopleRead = Annotated[Principal, Depends(require(Scope.personnel_read))]
PAGE = 50


@router.get("/people", response_class=HTMLResponse)
def people_list(
    request: Request,
    principal: PeopleRead,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    unit: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(pattern="^(|active|inactive)$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    active = {"active": True, "inactive": False}.get(status)
    people, total = personnel.list_people(
        session, q=q, unit=unit or None, active=active, limit=PAGE, offset=(page - 1) * PAGE
    )
    rel = personnel.related(session, people)
    units, _ = personnel.list_units(session, kind=UnitKind.unit, limit=500)
    context = {
        "people": [personnel.summary(p, rel) for p in people],
        "total": total,
        "q": q,
        "unit": unit,
        "status": status,
        "units": units,
        "page": page,
        "pages": max(1, -(-total // PAGE)),
    }
    template = "personnel/_results.html" if is_htmx(request) else "personnel/list.html"
    return render(request, template, context)


@router.get("/people/{key}", response_class=HTMLResponse)
def person_page(request: Request, principal: PeopleRead, session: SessionDep, key: str):
    person = personnel.detail(session, personnel.lookup(session, key[:64]))
    return render(request, "personnel/person.html", {"person": person})


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit_page(request: Request, principal: PeopleRead, session: SessionDep, unit_id: str):
    unit = personnel.unit_detail(session, personnel.get_unit(session, unit_id[:64]))
    return render(request, "personnel/unit.html", {"unit": unit})
