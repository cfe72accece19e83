"""Instrument registry API (read-only; the registry is maintained through `planner load`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import InstrumentDep, Limit, Offset, SearchQuery, set_etag
from app.db import SessionDep
from app.models.common import InstrumentKind, Theme
from app.models.instruments import InstrumentPage, InstrumentRead
from app.security import CatalogRead
from app.services import instruments

router = APIRouter(prefix="/api/v1/instruments", tags=["instruments"])


@router.get("", response_model=InstrumentPage)
def list_instruments(
    principal: CatalogRead,
    session: SessionDep,
    theme: Theme | None = None,
    kind: InstrumentKind | None = None,
    party: Annotated[
        str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")
    ] = None,
    q: SearchQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> InstrumentPage:
    items, total = instruments.list_instruments(
        session, theme=theme, kind=kind, party=party, q=q, limit=limit, offset=offset
    )
    return InstrumentPage(items=items, total=total, limit=limit, offset=offset)


@router.get(
    "/{code}", response_model=InstrumentRead, responses={404: {"description": "Unknown instrument"}}
)
def get_instrument(
    principal: CatalogRead,
    session: SessionDep,
    instrument: InstrumentDep,
    response: Response,
) -> InstrumentRead:
    set_etag(response, instrument.version)
    return instruments.detail(session, instrument, public_only=not principal.sees_all_courses)
