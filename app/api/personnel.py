"""Personnel API (read-only; people and units are provisioned through SCIM at /scim/v2)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.api.deps import Limit, Offset
from app.db import SessionDep
from app.models.accounts import Scope
from app.models.personnel import PersonPage, PersonRead, UnitKind, UnitPage, UnitRead
from app.security import Principal, require
from app.services import personnel

router = APIRouter(prefix="/api/v1", tags=["personnel"])

PeopleRead = Annotated[Principal, Depends(require(Scope.personnel_read))]
Key = Annotated[str, Path(min_length=1, max_length=64, description="Person id or employee number")]
UnitId = Annotated[str, Path(min_length=1, max_length=64)]
NOT_FOUND = {404: {"description": "Unknown person or unit"}}


@router.get("/people", response_model=PersonPage)
def list_people(
    principal: PeopleRead,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="Words of a name or number")] = None,
    unit: Annotated[str | None, Query(max_length=64, description="Unit or cohort id")] = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PersonPage:
    people, total = personnel.list_people(
        session, q=q, unit=unit, active=active, limit=limit, offset=offset
    )
    rel = personnel.related(session, people)
    return PersonPage(
        items=[personnel.summary(p, rel) for p in people], total=total, limit=limit, offset=offset
    )


@router.get("/people/{key}", response_model=PersonRead, responses=NOT_FOUND)
def get_person(principal: PeopleRead, session: SessionDep, key: Key) -> PersonRead:
    return personnel.detail(session, personnel.lookup(session, key))


@router.get("/units", response_model=UnitPage)
def list_units(
    principal: PeopleRead,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    kind: UnitKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> UnitPage:
    items, total = personnel.list_units(session, q=q, kind=kind, limit=limit, offset=offset)
    return UnitPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/units/{unit_id}", response_model=UnitRead, responses=NOT_FOUND)
def get_unit(principal: PeopleRead, session: SessionDep, unit_id: UnitId) -> UnitRead:
    return personnel.unit_detail(session, personnel.get_unit(session, unit_id))
